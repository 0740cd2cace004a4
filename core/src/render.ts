/**
 * Metric families filled afresh on every scrape. prom-client's long-lived
 * Gauges keep label sets until someone removes them; a family built per
 * collection holds exactly what the sources said this time, so a vanished
 * network device or container has no series on the next scrape.
 */

import type { MetricDef } from './metric-names.js';

/**
 * The Prometheus metric types we expose (`untyped` where node_exporter says so;
 * OpenMetrics calls it `unknown`). Histograms and summaries come only from
 * outside (textfile collector), their samples already named.
 */
export type MetricType = 'gauge' | 'counter' | 'untyped' | 'histogram' | 'summary';

/** Label names to values. */
export type Labels = Record<string, string>;

/** One sample of a family. */
export interface Sample {
  labels: Labels;
  value: number;
  /** The series name when it is not the family's (a histogram's `_bucket`, `_sum`, `_count`). */
  name?: string;
}

/** One metric family: its name, help, type and this scrape's samples. */
export class MetricFamily {
  readonly values: Sample[] = [];
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
  ) {}

  /** Adds one sample; `name` for a series not named as the family (a histogram's `_bucket`). */
  set(labels: Labels, value: number, name?: string): void {
    this.values.push(name === undefined ? { labels, value } : { labels, value, name });
  }
}

/** The text format 0.0.4 and OpenMetrics 1.0 content types (the same strings as prom-client's Registry). */
export const CONTENT_TYPES = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openMetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
} as const;

/**
 * Renders families in the text format 0.0.4 (families separated by a blank
 * line, as prom-client does) or, with `openMetrics`, in OpenMetrics 1.0
 * (counters declared without their `_total` suffix; no `# EOF`, which belongs
 * at the very end of the whole exposition). Families without samples are left
 * out. Label values and help texts are escaped (`\\`, `\n`, and `\"` in label
 * values); values are Go-parsable (`NaN`, `+Inf`, `-Inf`, else JavaScript's
 * shortest round-trip form). Returns '' when no family has samples.
 *
 * Written for the scrape path: one string built by concatenation, no
 * intermediate arrays per sample (prom-client's Registry allocates several per
 * sample, a third of a scrape's garbage with 20 containers).
 */
export function renderFamilies(families: ReadonlyMap<string, MetricFamily> | readonly MetricFamily[], openMetrics = false): string {
  let out = '';
  const separator = openMetrics ? '\n' : '\n\n';
  // forEach and indexed loops: this runs bytecode only (the exporter's
  // --no-opt), where each step of a for-of allocates an iterator result.
  families.forEach((f: MetricFamily) => {
    const samples = f.values;
    if (samples.length === 0) return;
    if (out) out += separator;
    // OpenMetrics declares a counter without `_total` and names its samples with it.
    const counterOM = openMetrics && f.type === 'counter';
    const declared = counterOM && f.name.endsWith('_total') ? f.name.slice(0, -'_total'.length) : f.name;
    const type = openMetrics && f.type === 'untyped' ? 'unknown' : f.type;
    out += `# HELP ${declared} ${escapeHelp(f.help)}\n# TYPE ${declared} ${type}`;
    for (let i = 0; i < samples.length; i++) {
      const { labels, value, name } = samples[i]!;
      out += '\n';
      out += counterOM ? `${declared}_total` : (name ?? f.name);
      let first = true;
      for (const k in labels) {
        out += first ? '{' : ',';
        first = false;
        out += k;
        out += '="';
        out += escapeLabelValue(labels[k]!);
        out += '"';
      }
      if (!first) out += '}';
      out += ' ';
      out += formatValue(value);
    }
  });
  return out;
}

const NEEDS_HELP_ESCAPE = /[\\\n]/;
const NEEDS_LABEL_ESCAPE = /[\\\n"]/;

function escapeHelp(s: string): string {
  return NEEDS_HELP_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : s;
}

function escapeLabelValue(s: string): string {
  return NEEDS_LABEL_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : s;
}

/** A sample value as the exposition formats spell it. */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return `${v}`;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

/** Thrown when two collectors, or one collector twice, declare a family with a different type or help. */
export class MetricConflictError extends Error {
  override name = 'MetricConflictError';
}

/** Where a collector puts what it read during one scrape. */
export class MetricSink {
  readonly families = new Map<string, MetricFamily>();

  /** The family a {@link MetricDef} describes, created on first use. */
  of(def: MetricDef): MetricFamily {
    if (def.type === 'counter') return this.counter(def.name, def.help);
    return def.type === 'untyped' ? this.untyped(def.name, def.help) : this.gauge(def.name, def.help);
  }

  /** The gauge family `name`, created on first use. */
  gauge(name: string, help: string): MetricFamily {
    return this.family(name, help, 'gauge');
  }

  /** The untyped family `name` (a value node_exporter gives no type), created on first use. */
  untyped(name: string, help: string): MetricFamily {
    return this.family(name, help, 'untyped');
  }

  /** The counter family `name` (which must end in `_total`), created on first use. */
  counter(name: string, help: string): MetricFamily {
    if (!name.endsWith('_total')) throw new MetricConflictError(`counter ${name} must end in _total`);
    return this.family(name, help, 'counter');
  }

  /**
   * The family `name` of any type, created on first use, without the checks
   * of {@link counter}: for families read from outside (a textfile), whose
   * counters need not end in `_total`.
   */
  family(name: string, help: string, type: MetricType): MetricFamily {
    const existing = this.families.get(name);
    if (existing) {
      if (existing.type !== type) throw new MetricConflictError(`${name} is a ${existing.type}, not a ${type}`);
      return existing;
    }
    const f = new MetricFamily(name, help, type);
    this.families.set(name, f);
    return f;
  }

  /** Moves another sink's families into this one. */
  absorb(other: MetricSink): void {
    other.families.forEach((f, name) => {
      const mine = this.families.get(name);
      if (!mine) this.families.set(name, f);
      else if (mine.type !== f.type) throw new MetricConflictError(`${name} is a ${mine.type} and a ${f.type}`);
      else for (let i = 0; i < f.values.length; i++) mine.values.push(f.values[i]!);
    });
  }
}
