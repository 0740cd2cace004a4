import { readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { NODE_HWMON_TEMP } from '@vigil/core/metric-names';
import type { Collector, HostPaths } from '../collector.js';
import { isTransientSensorError, listClass, readText } from './read.js';
import { parseMillidegrees } from './thermal.js';

/** node_exporter's label cleaning: lower case, anything but [a-z0-9:_] to `_`, trimmed of `_`. */
export function cleanChipName(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9:_]/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** A temperature sensor of a hwmon chip. */
export interface HwmonTemp {
  chip: string;
  chipName: string | null;
  sensor: string;
  label: string | null;
  celsius: number;
}

/**
 * The chip label node_exporter gives a hwmon directory: `<bus>_<device>` from its
 * `device` link (stable across boots), else its `name`, else `hwmonN`.
 */
async function chipOf(dir: string): Promise<{ chip: string; name: string | null }> {
  let name: string | null = null;
  try {
    name = (await readText(path.join(dir, 'name'))).trim() || null;
  } catch {
    // no name file
  }
  try {
    const device = await realpath(path.join(dir, 'device'));
    const devName = cleanChipName(path.basename(device));
    const devType = cleanChipName(path.basename(path.dirname(device)));
    if (devType && devName) return { chip: `${devType}_${devName}`, name };
    if (devName) return { chip: devName, name };
  } catch {
    // no device link (virtual chips)
  }
  if (name && cleanChipName(name)) return { chip: cleanChipName(name), name };
  return { chip: cleanChipName(path.basename(dir)), name };
}

/** Reads `temp*_input` (and `temp*_label`) of every chip under `<sys>/class/hwmon`. */
export async function readHwmonTemps(sys: string): Promise<HwmonTemp[]> {
  const base = path.join(sys, 'class/hwmon');
  const dirs = await listClass(base, /^hwmon\d+$/);
  const out: HwmonTemp[] = [];
  for (const d of dirs) {
    let dir = path.join(base, d);
    try {
      dir = path.resolve(base, await readlink(dir));
    } catch {
      // a plain directory (fixtures), not a link
    }
    const { chip, name } = await chipOf(dir);
    const inputs = (await readdir(dir)).filter((f) => /^temp\d+_input$/.test(f)).sort();
    for (const f of inputs) {
      const sensor = f.slice(0, -'_input'.length);
      let celsius: number;
      try {
        celsius = parseMillidegrees(await readText(path.join(dir, f)), `${d}/${f}`);
      } catch (err) {
        if (isTransientSensorError(err)) continue;
        throw err;
      }
      let label: string | null = null;
      try {
        label = (await readText(path.join(dir, `${sensor}_label`))).trim() || null;
      } catch {
        // unlabelled sensor
      }
      out.push({ chip, chipName: name, sensor, label, celsius });
    }
  }
  return out;
}

/** `node_hwmon_temp_celsius{chip,sensor}`, `node_hwmon_chip_names`, `node_hwmon_sensor_label` from /sys/class/hwmon. */
export function hwmonCollector(paths: HostPaths): Collector {
  return {
    name: 'hwmon',
    async update(sink) {
      const temps = await readHwmonTemps(paths.sys);
      if (temps.length === 0) return;
      const temp = sink.of(NODE_HWMON_TEMP);
      const names = sink.gauge('node_hwmon_chip_names', 'Annotation metric for human-readable chip names');
      const labels = sink.gauge('node_hwmon_sensor_label', 'Label for given chip and sensor');
      const seenChips = new Set<string>();
      for (const t of temps) {
        temp.set({ chip: t.chip, sensor: t.sensor }, t.celsius);
        if (t.chipName && !seenChips.has(t.chip)) names.set({ chip: t.chip, chip_name: t.chipName }, 1);
        seenChips.add(t.chip);
        if (t.label) labels.set({ chip: t.chip, label: t.label, sensor: t.sensor }, 1);
      }
    },
  };
}
