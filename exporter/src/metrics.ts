/**
 * Metric families filled afresh on every scrape. prom-client's long-lived
 * Gauges keep label sets until someone removes them; a family built per
 * collection holds exactly what the sources said this time, so a vanished
 * network device or container has no series on the next scrape.
 */

/** The Prometheus metric types we expose. */
export type MetricType = 'gauge' | 'counter';

/** Label names to values. */
export type Labels = Record<string, string>;

/** One sample of a family. */
export interface Sample {
  labels: Labels;
  value: number;
}

/**
 * One metric family, shaped as prom-client's Registry reads a metric
 * (`name`, `help`, `type`, `get()`), so it can be registered beside
 * prom-client's own metrics and rendered in either exposition format.
 */
export class MetricFamily {
  readonly aggregator = 'sum';
  readonly values: Sample[] = [];
  constructor(
    public name: string,
    readonly help: string,
    readonly type: MetricType,
  ) {}

  /** Adds one sample. */
  set(labels: Labels, value: number): void {
    this.values.push({ labels, value });
  }

  get() {
    return { name: this.name, help: this.help, type: this.type, values: this.values, aggregator: this.aggregator };
  }
}

/** Thrown when two collectors, or one collector twice, declare a family with a different type or help. */
export class MetricConflictError extends Error {
  override name = 'MetricConflictError';
}

/** Where a collector puts what it read during one scrape. */
export class MetricSink {
  readonly families = new Map<string, MetricFamily>();

  /** The gauge family `name`, created on first use. */
  gauge(name: string, help: string): MetricFamily {
    return this.family(name, help, 'gauge');
  }

  /** The counter family `name` (which must end in `_total`), created on first use. */
  counter(name: string, help: string): MetricFamily {
    if (!name.endsWith('_total')) throw new MetricConflictError(`counter ${name} must end in _total`);
    return this.family(name, help, 'counter');
  }

  private family(name: string, help: string, type: MetricType): MetricFamily {
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
    for (const [name, f] of other.families) {
      const mine = this.families.get(name);
      if (!mine) this.families.set(name, f);
      else if (mine.type !== f.type) throw new MetricConflictError(`${name} is a ${mine.type} and a ${f.type}`);
      else mine.values.push(...f.values);
    }
  }
}
