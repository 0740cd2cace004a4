/**
 * The host page's chart ranges: how far back each looks and the bucket it
 * reads in. Steps under an hour read heartbeats; whole hours read the hourly
 * rollups the scraper keeps for a year. Each range is a few hundred points.
 */
export const CHART_RANGES = {
  '1h': { seconds: 3_600, step: 15, label: '1 hour' },
  '24h': { seconds: 86_400, step: 300, label: '24 hours' },
  '7d': { seconds: 7 * 86_400, step: 3_600, label: '7 days' },
  '30d': { seconds: 30 * 86_400, step: 3 * 3_600, label: '30 days' },
} as const;

export type ChartRange = keyof typeof CHART_RANGES;

/** The range a query parameter names, or `fallback` for anything else. */
export function chartRange(value: string | null, fallback: ChartRange = '1h'): ChartRange {
  return value !== null && Object.hasOwn(CHART_RANGES, value) ? (value as ChartRange) : fallback;
}

/**
 * Columns with nulls put in where buckets are missing, so a chart shows the
 * gap instead of a line across it. Missing means more than 1.5 times the
 * usual spacing apart: the step, or the data's own median spacing when that is
 * wider (a host scraped every minute fills one 15 s bucket in four, and that
 * is no gap).
 */
export function withGaps(
  time: readonly number[],
  columns: readonly (readonly (number | null)[])[],
  step: number,
): [number[], ...(number | null)[][]] {
  const spacings: number[] = [];
  for (let i = 1; i < time.length; i++) spacings.push(time[i]! - time[i - 1]!);
  spacings.sort((a, b) => a - b);
  const usual = Math.max(step, spacings.length ? spacings[Math.floor(spacings.length / 2)]! : step);
  const t: number[] = [];
  const out: (number | null)[][] = columns.map(() => []);
  for (let i = 0; i < time.length; i++) {
    if (i > 0 && time[i]! - time[i - 1]! > 1.5 * usual) {
      t.push(time[i - 1]! + usual);
      for (const o of out) o.push(null);
    }
    t.push(time[i]!);
    for (let c = 0; c < columns.length; c++) out[c]!.push(columns[c]![i] ?? null);
  }
  return [t, ...out];
}

/**
 * Line colours for charts of several figures (Okabe and Ito's palette, told
 * apart with colour blindness, readable on the light and the dark theme).
 */
export const LINE_COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#999999'] as const;

/** A per-name series (db's namedSeries) as chart lines: value `k` of each name, labelled by name (and `suffix`). */
export function namedLines(
  series: Readonly<Record<string, readonly (readonly (number | null)[])[]>>,
  k: number,
  suffix = '',
): { label: string; values: readonly (number | null)[] }[] {
  return Object.entries(series).map(([name, cols]) => ({ label: suffix ? `${name} ${suffix}` : name, values: cols[k] ?? [] }));
}
