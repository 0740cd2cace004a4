import {
  type AlertRuleSpec,
  advance,
  applicableRule,
  type CompiledRule,
  type Condition,
  compileRule,
  DISK_POINTS_PER_WINDOW,
  evaluate,
  newHistory,
  type TargetHistory,
  targetLabels,
} from '@vigil/core/alerts';
import type { HeartbeatFigures } from '@vigil/core/heartbeat';
import type { Inventory } from '@vigil/core/inventory';
import { type AlertWrite, applyAlertChanges, type Database, diskHistory, listAlertRules, openAlerts, type Target } from '@vigil/db';
import type { Kysely } from 'kysely';

/** What the latest heartbeat of a target said, waiting for the next pass to be written. */
interface Observed {
  target: Pick<Target, 'id' | 'name' | 'labels'>;
  /** The heartbeat's time, Unix seconds. */
  time: number;
  conditions: Condition[];
}

/** Counts since start, for the scraper's /metrics. */
export interface AlertEngineStats {
  /** Heartbeats evaluated against the rules. */
  evaluated: number;
  /** Alert rows changed (opened, fired, resolved, cleared). */
  changes: number;
}

/**
 * Evaluates the alert rules as heartbeats arrive and writes what changes.
 *
 * `observe` runs on every successful scrape of a target this replica owns:
 * it checks the heartbeat's figures and inventory against the rules that
 * apply to the target (core's `ruleFor` and `evaluate`; cheap, in memory, and
 * it keeps each target's disk and restart history). `pass` (every 2 s) reads
 * the targets' open alerts and writes each target's changes from its latest
 * heartbeat in one transaction (core's `advance`). Nothing is judged without a
 * heartbeat: a silent host keeps its alerts as they were, and liveness says
 * it is down. A failed write keeps the observations for the next pass (a
 * newer heartbeat of the same target replaces its older one).
 *
 * The rules are read from the database at each pass; a heartbeat before the
 * first read is not evaluated.
 */
export class AlertEngine {
  readonly stats: AlertEngineStats = { evaluated: 0, changes: 0 };
  #rules: (CompiledRule & { name: string })[] | null = null;
  /** What the rules were when last read (ids and update times): unchanged, the per-target cache stands. */
  #rulesVersion = '';
  /** Each target's rules as they apply to it, for the labels they were cut for. */
  #applicable = new Map<number, { labels: string; rules: { id: number; spec: AlertRuleSpec }[] }>();
  #history = new Map<number, TargetHistory>();
  #observed = new Map<number, Observed>();
  /** Targets first seen here with a disk prediction to make: their free space over the window is read from the heartbeats at the next pass. */
  #backfill = new Set<number>();

  constructor(private readonly db: Kysely<Database>) {}

  /** Heartbeats waiting to be written. */
  get pending(): number {
    return this.#observed.size;
  }

  /** Reads the rules now (each pass does). */
  async loadRules(): Promise<void> {
    const rows = await listAlertRules(this.db);
    const version = rows.map((r) => `${r.id}@${r.updated_at.getTime()}`).join(',');
    if (this.#rules && version === this.#rulesVersion) return;
    this.#rules = rows.map((r) => ({ ...compileRule(r.id, r.spec), name: r.name }));
    this.#rulesVersion = version;
    this.#applicable.clear();
  }

  /** The rules that apply to a target, cut to it: cached until its labels or the rules change. */
  #rulesOf(target: Pick<Target, 'id' | 'name' | 'labels'>): { id: number; spec: AlertRuleSpec }[] {
    const key = `${target.name}\u0000${JSON.stringify(target.labels)}`;
    const cached = this.#applicable.get(target.id);
    if (cached?.labels === key) return cached.rules;
    const labels = targetLabels(target.name, target.labels);
    const rules: { id: number; spec: AlertRuleSpec }[] = [];
    for (const r of this.#rules!) {
      const spec = applicableRule(r, labels);
      if (spec) rules.push({ id: r.id, spec });
    }
    this.#applicable.set(target.id, { labels: key, rules });
    return rules;
  }

  /** Evaluates one successful scrape of `target` at `time` against the rules. */
  observe(target: Pick<Target, 'id' | 'name' | 'labels'>, time: Date, figures: HeartbeatFigures, inventory: Inventory): void {
    if (!this.#rules) return;
    const rules = this.#rulesOf(target);
    let history = this.#history.get(target.id);
    if (!history) {
      this.#history.set(target.id, (history = newHistory()));
      if (rules.some((r) => r.spec.kind === 'disk_full')) this.#backfill.add(target.id);
    }
    const t = time.getTime() / 1000;
    this.#observed.set(target.id, { target, time: t, conditions: evaluate(rules, t, figures, inventory, history) });
    this.stats.evaluated++;
  }

  /**
   * Fills the disk history of targets first seen here (at most 500 a pass)
   * from their stored heartbeats, thinned to the prediction's spacing, so a
   * restarted scraper predicts at once rather than after a quarter window.
   */
  async #readDiskHistory(): Promise<void> {
    if (this.#backfill.size === 0) return;
    const ids = [...this.#backfill].slice(0, 500);
    let longest = 0;
    let shortest = Infinity;
    for (const id of ids)
      for (const r of this.#applicable.get(id)?.rules ?? [])
        if (r.spec.kind === 'disk_full') {
          longest = Math.max(longest, r.spec.window_seconds);
          shortest = Math.min(shortest, r.spec.window_seconds);
        }
    if (longest === 0) {
      for (const id of ids) this.#backfill.delete(id);
      return;
    }
    const step = Math.max(1, Math.floor(shortest / DISK_POINTS_PER_WINDOW));
    const stored = await diskHistory(this.db, ids, new Date(Date.now() - longest * 1000), step);
    for (const id of ids) {
      this.#backfill.delete(id);
      const h = this.#history.get(id);
      const old = stored.get(id);
      if (!h || !old) continue;
      const first = h.disk[0]?.t ?? Infinity;
      h.disk.unshift(...old.filter((p) => p.t < first - step));
    }
  }

  /** Forgets a target this replica no longer scrapes. */
  forget(targetId: number): void {
    this.#history.delete(targetId);
    this.#backfill.delete(targetId);
    this.#applicable.delete(targetId);
    this.#observed.delete(targetId);
  }

  /**
   * Reads the rules, then writes the alert changes of every target observed
   * since the last pass.
   * @returns the changes written
   * @throws the database's error (the observations are kept for the next pass)
   */
  async pass(): Promise<AlertWrite[]> {
    await this.loadRules();
    await this.#readDiskHistory();
    if (this.#observed.size === 0) return [];
    const batch = [...this.#observed.values()];
    this.#observed.clear();
    const names = new Map(this.#rules!.map((r) => [r.id, r.name]));
    try {
      const open = await openAlerts(
        this.db,
        batch.map((o) => o.target.id),
      );
      const writes: AlertWrite[] = [];
      for (const o of batch) {
        const at = new Date(o.time * 1000);
        for (const change of advance(open.get(o.target.id) ?? [], o.conditions, o.time)) {
          const ruleId = 'condition' in change ? change.condition.ruleId : change.ruleId;
          writes.push({ target: o.target, ruleName: names.get(ruleId) ?? String(ruleId), change, at });
        }
      }
      this.stats.changes += await applyAlertChanges(this.db, writes);
      return writes;
    } catch (err) {
      for (const o of batch) if (!this.#observed.has(o.target.id)) this.#observed.set(o.target.id, o);
      throw err;
    }
  }
}
