import { parseArgs } from 'node:util';
import { parseDuration } from '@vigil/core/config';
import { labelsProblem } from '@vigil/core/target-schema';
import {
  createEnrolmentToken,
  EnrolmentError,
  listEnrolmentTokens,
  requireCurrentSchema,
  revokeEnrolmentToken,
  writeAudit,
} from '@vigil/db';
import { type DbWork, type Out, printTable, UsageError, VIGIL } from './shared.js';

/** `N uses left of M`, `no limit`. */
function usesOf(t: { uses: number; max_uses: number | null; uses_left: number | null }): string {
  return t.max_uses === null ? `${t.uses} used, no limit` : `${t.uses_left} of ${t.max_uses} left`;
}

/**
 * `vigil enrol-tokens list|add|revoke`: the tokens new hosts enrol with
 * (`VIGIL_ENROL_TOKEN` on their exporter). A token is printed once, at `add`.
 */
export function enrolTokensCommand(sub: string, rest: string[], out: Out): DbWork {
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const tokens = await listEnrolmentTokens(db);
      if (values.json) return void out(`${JSON.stringify(tokens, null, 2)}\n`);
      if (tokens.length === 0) return void out(`no enrolment tokens; make one with: ${VIGIL} enrol-tokens add NAME\n`);
      printTable(
        ['ID', 'NAME', 'PREFIX', 'USES', 'EXPIRES', 'APPROVAL', 'LABELS', 'STATUS'],
        tokens.map((t) => [
          String(t.id),
          t.name,
          `${t.prefix}…`,
          usesOf(t),
          t.expires_at?.toISOString() ?? 'never',
          t.require_approval ? 'required' : 'no',
          Object.entries(t.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || '-',
          t.revoked_at ? 'revoked' : t.usable ? 'usable' : t.uses_left === 0 ? 'used up' : 'expired',
        ]),
        out,
      );
    };
  }
  if (sub === 'add') {
    const usage = `usage: ${VIGIL} enrol-tokens add NAME [--max-uses N] [--expires 24h] [--label key=value ...] [--approval]`;
    const { values, positionals } = parseArgs({
      args: rest,
      options: {
        'max-uses': { type: 'string' },
        expires: { type: 'string' },
        label: { type: 'string', multiple: true },
        approval: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [name] = positionals;
    if (!name || positionals.length > 1) throw new UsageError(usage);
    const maxUses = values['max-uses'] === undefined ? null : Number(values['max-uses']);
    if (maxUses !== null && !(Number.isInteger(maxUses) && maxUses >= 1))
      throw new UsageError(`--max-uses "${values['max-uses']}" must be a whole number of hosts, 1 or more`);
    let expiresAt: Date | null = null;
    if (values.expires !== undefined) {
      const seconds = parseDuration(values.expires);
      if (seconds === null || seconds <= 0) throw new UsageError(`--expires "${values.expires}" must be a duration, e.g. 1h, 24h, 30d`);
      expiresAt = new Date(Date.now() + seconds * 1000);
    }
    const labels: Record<string, string> = {};
    for (const l of values.label ?? []) {
      const eq = l.indexOf('=');
      if (eq < 1) throw new UsageError(`--label "${l}" must be key=value with a Prometheus label name as key`);
      labels[l.slice(0, eq)] = l.slice(eq + 1);
    }
    const problem = labelsProblem(labels);
    if (problem) throw new UsageError(`--label: ${problem}`);
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      let made: Awaited<ReturnType<typeof createEnrolmentToken>>;
      try {
        made = await createEnrolmentToken(db, {
          name,
          labels,
          maxUses,
          expiresAt,
          requireApproval: values.approval ?? false,
          createdBy: 'cli',
        });
      } catch (e) {
        if (e instanceof EnrolmentError) throw new UsageError(e.message);
        throw e;
      }
      const { token, info } = made;
      await writeAudit(db, {
        user: null,
        action: 'enrolment_token.create',
        objectType: 'enrolment_token',
        objectId: info.id,
        after: { ...info },
      });
      out(
        `made enrolment token "${info.name}" (${usesOf(info)}, ${info.expires_at ? `expires ${info.expires_at.toISOString()}` : 'no expiry'}${info.require_approval ? ', hosts wait for approval' : ''}).\n` +
          'It is shown this once; on each new host run:\n\n' +
          `  VIGIL_CONSOLE_URL=https://<your console> VIGIL_ENROL_TOKEN=${token} vigil-exporter\n\n`,
      );
    };
  }
  const ref = rest[0];
  if (!ref || rest.length > 1) throw new UsageError(`usage: ${VIGIL} enrol-tokens revoke NAME|ID`);
  return async (db) => {
    await requireCurrentSchema(db, `${VIGIL} migrate`);
    const t = (await listEnrolmentTokens(db)).find((x) => x.name === ref || String(x.id) === ref);
    if (!t) throw new UsageError(`no enrolment token named "${ref}"; see ${VIGIL} enrol-tokens list`);
    const after = await revokeEnrolmentToken(db, t.id);
    await writeAudit(db, {
      user: null,
      action: 'enrolment_token.revoke',
      objectType: 'enrolment_token',
      objectId: t.id,
      after: { ...after },
    });
    out(`revoked enrolment token "${t.name}"; the hosts it enrolled stay\n`);
  };
}
