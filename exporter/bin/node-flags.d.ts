/** The V8 flags the exporter runs with; see node-flags.js. */
export declare const NODE_FLAGS: readonly string[];
