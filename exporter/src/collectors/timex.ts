import { createRequire } from 'node:module';
import type { MetricSink } from '@vigil/core/render';
import type { Collector } from '../collector.js';

/**
 * The kernel's NTP state as adjtimex(2) returns it in `struct timex` (see
 * adjtimex(2)): raw fields, in the kernel's units (offset and jitter in
 * microseconds, or nanoseconds when `status` has STA_NANO; freq, ppsfreq and
 * stabil in ppm with a 16-bit fraction; maxerror, esterror and tick in
 * microseconds).
 */
export interface Timex {
  offset: number;
  freq: number;
  maxerror: number;
  esterror: number;
  status: number;
  constant: number;
  tick: number;
  ppsfreq: number;
  jitter: number;
  shift: number;
  stabil: number;
  jitcnt: number;
  calcnt: number;
  errcnt: number;
  stbcnt: number;
  tai: number;
}

/** adjtimex(2)'s return value when the clock is not synchronized. */
export const TIME_ERROR = 5;
/** `status` bit: offset and jitter are in nanoseconds, not microseconds. */
const STA_NANO = 0x2000;
/** ppm with a 16-bit binary fraction (adjtimex(2), NOTES). */
const PPM16FRAC = 1_000_000 * 65_536;

/** Reads the kernel's clock state: adjtimex(2)'s return value (the clock state) and the struct. */
export type AdjtimexReader = () => { state: number; timex: Timex };

const G = (name: string, help: string) => ({ name, help, type: 'gauge' as const });
const C = (name: string, help: string) => ({ name, help, type: 'counter' as const });

/**
 * Adds node_exporter's `node_timex_*` series, in its units, from one
 * adjtimex(2) reading: `node_timex_sync_status` is 0 when the call returned
 * TIME_ERROR (the clock is not synchronized), else 1.
 */
export function addTimexSeries(sink: MetricSink, state: number, t: Timex): void {
  const divisor = t.status & STA_NANO ? 1e9 : 1e6;
  const series: [{ name: string; help: string; type: 'gauge' | 'counter' }, number][] = [
    [G('node_timex_sync_status', 'Is clock synchronized to a reliable server (1 = yes, 0 = no).'), state === TIME_ERROR ? 0 : 1],
    [G('node_timex_offset_seconds', 'Time offset in between local system and reference clock.'), t.offset / divisor],
    [G('node_timex_frequency_adjustment_ratio', 'Local clock frequency adjustment.'), 1 + t.freq / PPM16FRAC],
    [G('node_timex_maxerror_seconds', 'Maximum error in seconds.'), t.maxerror / 1e6],
    [G('node_timex_estimated_error_seconds', 'Estimated error in seconds.'), t.esterror / 1e6],
    [G('node_timex_status', 'Value of the status array bits.'), t.status],
    [G('node_timex_loop_time_constant', 'Phase-locked loop time constant.'), t.constant],
    [G('node_timex_tick_seconds', 'Seconds between clock ticks.'), t.tick / 1e6],
    [G('node_timex_pps_frequency_hertz', 'Pulse per second frequency.'), t.ppsfreq / PPM16FRAC],
    [G('node_timex_pps_jitter_seconds', 'Pulse per second jitter.'), t.jitter / divisor],
    [G('node_timex_pps_shift_seconds', 'Pulse per second interval duration.'), t.shift],
    [G('node_timex_pps_stability_hertz', 'Pulse per second stability, average of recent frequency changes.'), t.stabil / PPM16FRAC],
    [C('node_timex_pps_jitter_total', 'Pulse per second count of jitter limit exceeded events.'), t.jitcnt],
    [C('node_timex_pps_calibration_total', 'Pulse per second count of calibration intervals.'), t.calcnt],
    [C('node_timex_pps_error_total', 'Pulse per second count of calibration errors.'), t.errcnt],
    [C('node_timex_pps_stability_exceeded_total', 'Pulse per second count of stability limit exceeded events.'), t.stbcnt],
    [G('node_timex_tai_offset_seconds', 'International Atomic Time (TAI) offset.'), t.tai],
  ];
  for (const [def, value] of series) sink.of(def).set({}, value);
}

let reader: AdjtimexReader | undefined;

/**
 * adjtimex(2) with `modes` 0 (read only, no privilege needed), called in libc
 * through koffi, a maintained FFI library with prebuilt binaries for Linux on
 * x64, arm64, arm and riscv64: Node has no binding of its own, and no file
 * under /proc or /sys carries this state. Loaded on first use, so a host with
 * the collector disabled never loads it. `long` fields follow the platform's
 * width (4 bytes on a 32-bit Raspberry Pi OS).
 * @throws Error naming the cause and how to switch the collector off, when
 *   koffi or libc cannot be loaded on this platform
 */
export function libcAdjtimex(): AdjtimexReader {
  if (reader) return reader;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch (err) {
    throw new Error(
      `timex: cannot load koffi to call adjtimex(2) (${(err as Error).message}); set VIGIL_DISABLED_COLLECTORS=timex to go without clock-sync series`,
    );
  }
  const libc = koffi.load('libc.so.6');
  const timeval = koffi.struct('vigil_timeval', { tv_sec: 'long', tv_usec: 'long' });
  koffi.struct('vigil_timex', {
    modes: 'uint',
    offset: 'long',
    freq: 'long',
    maxerror: 'long',
    esterror: 'long',
    status: 'int',
    constant: 'long',
    precision: 'long',
    tolerance: 'long',
    time: timeval,
    tick: 'long',
    ppsfreq: 'long',
    jitter: 'long',
    shift: 'int',
    stabil: 'long',
    jitcnt: 'long',
    calcnt: 'long',
    errcnt: 'long',
    stbcnt: 'long',
    tai: 'int',
    reserved: koffi.array('int', 11),
  });
  const adjtimex = libc.func('int adjtimex(_Inout_ vigil_timex *buf)');
  reader = () => {
    const buf = { modes: 0 } as Timex & { modes: number };
    const state = adjtimex(buf) as number;
    if (state < 0) throw new Error('timex: adjtimex(2) failed');
    return { state, timex: buf };
  };
  return reader;
}

/**
 * node_exporter's timex collector: the kernel clock's NTP discipline from
 * adjtimex(2) (see {@link libcAdjtimex}), so "clock not synchronising" and
 * "clock skew" alert rules work. `read` is for tests.
 */
export function timexCollector(read?: AdjtimexReader): Collector {
  return {
    name: 'timex',
    async update(sink) {
      const { state, timex } = (read ?? libcAdjtimex())();
      addTimexSeries(sink, state, timex);
    },
  };
}
