import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration, withoutLineEnds } from '@vigil/core/config';
import { maskUrl } from '@vigil/core/secrets';
import { newTarget, TARGET_LIMITS, targetUrl } from '@vigil/core/target-schema';
import {
  addTarget,
  approveTarget,
  getTargetByName,
  queryTargets,
  removeTarget,
  requireCurrentSchema,
  TargetExistsError,
  writeAudit,
} from '@vigil/db';
import * as z from 'zod/mini';
import { type DbWork, type Out, printTable, UsageError, VIGIL } from './shared.js';

/**
 * Validates a target's metrics URL as the console does (http(s) with a host; a
 * bare host gets /metrics). @throws UsageError saying what is wrong
 */
export function checkTargetUrl(raw: string): string {
  const r = z.safeParse(targetUrl, raw);
  if (r.success) return r.data;
  throw new UsageError(`"${maskUrl(raw)}" ${r.error.issues[0]!.message.replace(/^not a URL/, 'is not a URL')}`);
}

/** Reads a token file (trailing newline dropped). @throws UsageError naming the file, never its contents */
function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--token-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return withoutLineEnds(text);
}

/** `vigil targets list|add|remove|approve|reject`: reads the command line (throwing UsageError), returns the database work. */
export function targetsCommand(sub: string, rest: string[], out: Out): DbWork {
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      // The one target view (each with its newest heartbeat), as the API lists it: the token never shown, only whether there is one.
      const targets = (await queryTargets(db, { perPage: 1_000_000 })).items;
      if (values.json) {
        const shown = targets.map(({ token, ...t }) => ({ ...t, url: maskUrl(t.url), has_token: token !== null }));
        out(`${JSON.stringify(shown, null, 2)}\n`);
        return;
      }
      if (targets.length === 0) {
        out(`no targets; add one with: ${VIGIL} targets add NAME URL\n`);
        return;
      }
      printTable(
        ['NAME', 'STATE', 'INTERVAL', 'TIMEOUT', 'URL'],
        targets.map((t) => [
          t.name,
          t.pending_approval ? 'pending approval' : t.paused ? `${t.state} (paused)` : t.state,
          `${t.interval_seconds}s`,
          `${t.timeout_seconds}s`,
          t.connects_out ? 'connects out (through the console)' : maskUrl(t.url),
        ]),
        out,
      );
    };
  }
  if (sub === 'add') {
    const usage = `usage: ${VIGIL} targets add NAME URL [--interval 15s] [--timeout 10s] [--label key=value] [--token-file FILE]`;
    const { values, positionals } = parseArgs({
      args: rest,
      options: {
        interval: { type: 'string' },
        timeout: { type: 'string' },
        label: { type: 'string', multiple: true },
        'token-file': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [name, url] = positionals;
    if (!name || !url || positionals.length > 2) throw new UsageError(usage);
    // Durations and labels are read here; what they may be is the one target schema's rule.
    const interval = values.interval === undefined ? 15 : parseDuration(values.interval);
    const timeout = values.timeout === undefined ? Math.min(10, interval ?? 15) : parseDuration(values.timeout);
    const labels: Record<string, string> = {};
    for (const l of values.label ?? []) {
      const eq = l.indexOf('=');
      if (eq < 1) throw new UsageError(`--label "${l}" must be key=value with a Prometheus label name as key`);
      labels[l.slice(0, eq)] = l.slice(eq + 1);
    }
    // This exporter's own token (install.sh's /etc/vigil/exporter.token), from a file: never on the command line.
    const token = values['token-file'] === undefined ? undefined : readTokenFile(values['token-file']);
    const { minIntervalSeconds: minI, maxIntervalSeconds: maxI, minTimeoutSeconds: minT } = TARGET_LIMITS;
    const checked = z.safeParse(newTarget, {
      name,
      url,
      interval_seconds: interval ?? Number.NaN,
      timeout_seconds: timeout ?? Number.NaN,
      labels,
      ...(token === undefined ? {} : { token }),
    });
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      const field = String(issue.path[0] ?? '');
      if (field === 'name') throw new UsageError(`target name "${name}" must be letters, digits, dot, dash or underscore (at most 63)`);
      if (field === 'url') checkTargetUrl(url); // throws, saying what is wrong with it
      if (field === 'interval_seconds')
        throw new UsageError(`--interval "${values.interval}" must be whole seconds from ${minI} s to ${maxI / 3600} h (e.g. 15s, 1m)`);
      if (field === 'timeout_seconds')
        throw new UsageError(`--timeout "${values.timeout}" must be a duration from ${minT * 1000} ms to the interval (${interval}s)`);
      if (field === 'labels') throw new UsageError(`--label: ${issue.message}`);
      if (field === 'token')
        throw new UsageError(`--token-file ${values['token-file']}: the token must be 16 to 200 printable characters without spaces`);
      throw new UsageError(issue.message);
    }
    const input = checked.data;
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      try {
        const t = await addTarget(db, { ...input, source: 'cli' });
        out(`added ${t.name} (${maskUrl(t.url)}, every ${t.interval_seconds}s${t.token === null ? '' : ', with its own token'})\n`);
      } catch (e) {
        if (e instanceof TargetExistsError) throw new UsageError(e.message);
        throw e;
      }
    };
  }
  const name = rest[0];
  if (!name || rest.length > 1) throw new UsageError(`usage: ${VIGIL} targets ${sub} NAME`);
  if (sub === 'approve' || sub === 'reject')
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const t = await getTargetByName(db, name);
      if (!t) throw new UsageError(`no target named "${name}"; see ${VIGIL} targets list`);
      if (!t.pending_approval) throw new UsageError(`${name} is not waiting for approval`);
      if (sub === 'approve') await approveTarget(db, t.id, 'cli');
      else await removeTarget(db, name);
      await writeAudit(db, { user: null, action: `target.${sub}`, objectType: 'target', objectId: t.id, before: { name: t.name } });
      out(sub === 'approve' ? `approved ${name}: it is scraped from now on\n` : `rejected ${name}: removed\n`);
    };
  return async (db) => {
    await requireCurrentSchema(db, `${VIGIL} migrate`);
    if (!(await removeTarget(db, name))) throw new UsageError(`no target named "${name}"; see ${VIGIL} targets list`);
    out(`removed ${name}\n`);
  };
}
