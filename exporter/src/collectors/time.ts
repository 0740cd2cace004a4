import type { Collector } from '../collector.js';

/** `node_time_seconds`: the host's clock, so skew between hosts can be seen. */
export function timeCollector(now: () => number = Date.now): Collector {
  return {
    name: 'time',
    async update(sink) {
      sink.gauge('node_time_seconds', 'System time in seconds since epoch (1970).').set({}, now() / 1000);
    },
  };
}
