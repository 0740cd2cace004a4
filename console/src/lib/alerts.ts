/** How the pages show alert rules and durations (no server code: pages import it). */

/** Seconds as the pages say them: 90 s, 10 min, 2 h, 3 d. */
export function formatSeconds(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 360) / 10} h`;
  return `${Math.round(s / 8640) / 10} d`;
}

/** A rule's condition in one line: "temperature_celsius > 80 for 5 min", "container restarting (window 5 min)". */
export function describeRule(spec: Record<string, unknown>): string {
  const forText = spec.for_seconds ? ` for ${formatSeconds(Number(spec.for_seconds))}` : '';
  switch (spec.kind) {
    case 'threshold':
      return `${spec.figure} ${spec.op ?? '>'} ${spec.value}${forText}`;
    case 'disk_full':
      return `root disk predicted full within ${spec.within_hours} h (fitted over ${formatSeconds(Number(spec.window_seconds))})${forText}`;
    case 'container':
      return `container ${spec.container || '(any)'} ${String(spec.condition).replace('_', ' ')}${spec.condition === 'restarting' ? ` (window ${formatSeconds(Number(spec.window_seconds))})` : ''}${forText}`;
    case 'probe':
      return `probe ${spec.probe || '(any)'} failing${forText}`;
    case 'certificate':
      return `certificate of probe ${spec.probe || '(any)'} expiring within ${spec.within_days} days${forText}`;
    default:
      return String(spec.kind);
  }
}
