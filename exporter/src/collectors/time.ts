import { NODE_TIME } from '@vigil/core/metric-names';
import type { Collector } from '../collector.js';

/** `node_time_seconds`: the host's clock, so skew between hosts can be seen. */
export function timeCollector(now: () => number = Date.now): Collector {
  return {
    name: 'time',
    async update(sink) {
      sink.of(NODE_TIME).set({}, now() / 1000);
    },
  };
}
