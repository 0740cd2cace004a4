/** Bytes in IEC units, as `free -h` and `df -h` print them: 1.5 GiB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Math.abs(bytes);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${bytes < 0 ? '-' : ''}${v.toFixed(digits)} ${units[i]}`;
}

/** A share as a percentage with one decimal; `—` when unknown. */
export function formatPercent(p: number | null | undefined): string {
  return p === null || p === undefined || !Number.isFinite(p) ? '—' : `${p.toFixed(1)} %`;
}

/** A span of seconds, coarse and short: `45 s`, `3 min`, `5 h 2 min`, `12 d 3 h`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** How long ago `time` was, seen from `now`: `12 s ago`; `never` for no time. */
export function formatAge(time: Date | string | null | undefined, now: number): string {
  if (!time) return 'never';
  return `${formatDuration((now - new Date(time).getTime()) / 1000)} ago`;
}

/** A rate of bytes per second in IEC units: `1.50 MiB/s`; `—` when unknown. */
export function formatByteRate(bytesPerSecond: number | null | undefined): string {
  const b = formatBytes(bytesPerSecond);
  return b === '—' ? b : `${b}/s`;
}

/** A plain figure with the digits that matter at its size (`0.25`, `12.5`, `340`) and a unit; `—` when unknown. */
export function formatFigure(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  return `${v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2)}${unit}`;
}
