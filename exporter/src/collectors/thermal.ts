import path from 'node:path';
import { NODE_THERMAL_ZONE_TEMP } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { isTransientSensorError, listClass, ParseError, readText } from './read.js';

/** One thermal zone of /sys/class/thermal: `zone` is N of thermal_zoneN, `celsius` from `temp` (millidegrees). */
export interface ThermalZone {
  zone: string;
  type: string;
  celsius: number;
}

/**
 * Parses a sysfs temperature in millidegrees Celsius (`48312` → 48.312).
 * @throws ParseError for anything but an integer
 */
export function parseMillidegrees(text: string, file: string): number {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) throw new ParseError(file, 1, `expected millidegrees Celsius, got ${JSON.stringify(t.slice(0, 20))}`);
  return Number(t) / 1000;
}

/**
 * Reads every thermal zone under `<sys>/class/thermal` (a Raspberry Pi's
 * `cpu-thermal`, x86 `x86_pkg_temp`, ...). A zone whose sensor cannot be read
 * right now (EAGAIN, ENODATA, EINVAL: common for idle or disabled sensors) is
 * left out rather than failing the others. None at all is an empty list.
 */
export async function readThermalZones(sys: string, signal?: AbortSignal): Promise<ThermalZone[]> {
  const dir = path.join(sys, 'class/thermal');
  const names = await listClass(dir, /^thermal_zone\d+$/);
  const zones = await Promise.all(
    names.map(async (n): Promise<ThermalZone | null> => {
      try {
        const [type, temp] = await Promise.all([readText(path.join(dir, n, 'type'), signal), readText(path.join(dir, n, 'temp'), signal)]);
        return { zone: n.slice('thermal_zone'.length), type: type.trim(), celsius: parseMillidegrees(temp, `${n}/temp`) };
      } catch (err) {
        if (isTransientSensorError(err)) return null;
        throw err;
      }
    }),
  );
  return zones.filter((z): z is ThermalZone => z !== null);
}

/** `node_thermal_zone_temp{zone,type}` in °C from /sys/class/thermal. */
export function thermalCollector(paths: HostPaths): Collector {
  return {
    name: 'thermal',
    async update(sink, signal) {
      const zones = await readThermalZones(paths.sys, signal);
      if (zones.length === 0) return;
      const family = sink.of(NODE_THERMAL_ZONE_TEMP);
      for (const z of zones) family.set({ zone: z.zone, type: z.type }, z.celsius);
    },
  };
}
