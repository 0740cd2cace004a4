import { parseArgs } from 'node:util';
import { CHANNEL_KINDS, maskChannelUrl } from '@vigil/core/channels';
import { addChannel, ChannelError, listChannels, removeChannel, requireCurrentSchema } from '@vigil/db';
import { type DbWork, type Out, printTable, UsageError, VIGIL } from './shared.js';

/** `vigil channels list|add|remove`: reads the command line (throwing UsageError), returns the database work. */
export function channelsCommand(sub: string, rest: string[], out: Out): DbWork {
  if (sub === 'list') {
    if (rest.length) throw new UsageError(`usage: ${VIGIL} channels list`);
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const channels = await listChannels(db);
      if (channels.length === 0) {
        out(`no channels; add one with: ${VIGIL} channels add NAME --webhook URL\n`);
        return;
      }
      // A webhook's path is its credential (Slack's /services/T…/B…/secret): shown as host only.
      printTable(
        ['NAME', 'KIND', 'ENABLED', 'URL', 'ALERTS'],
        channels.map((c) => [
          c.name,
          c.kind,
          c.enabled ? 'yes' : 'no',
          maskChannelUrl(c.kind, c.url),
          `${c.matchers || 'all'}${c.min_severity === 'info' ? '' : ` (${c.min_severity}+)`}`,
        ]),
        out,
      );
    };
  }
  if (sub === 'add') {
    const usage = `usage: ${VIGIL} channels add NAME --KIND URL [--matchers M] [--min-severity S] [--group-by LABELS]\n  kinds: ${CHANNEL_KINDS.map((k) => `--${k}`).join(', ')}`;
    const { values, positionals } = parseArgs({
      args: rest,
      options: {
        ...Object.fromEntries(CHANNEL_KINDS.map((k) => [k, { type: 'string' as const }])),
        matchers: { type: 'string' },
        'min-severity': { type: 'string' },
        'group-by': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const given = values as Record<string, string | undefined>;
    const kinds = CHANNEL_KINDS.filter((k) => given[k] !== undefined);
    if (positionals.length !== 1 || kinds.length !== 1) throw new UsageError(usage);
    const kind = kinds[0]!;
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      try {
        const c = await addChannel(db, {
          name: positionals[0]!,
          kind,
          url: given[kind]!,
          matchers: given.matchers,
          min_severity: given['min-severity'],
          group_by: given['group-by'],
        });
        out(
          `added ${c.name} (${c.kind} ${maskChannelUrl(c.kind, c.url)}); it gets the down and recovery events, and ${c.matchers ? `the alerts matching ${c.matchers}` : 'every alert'}${c.min_severity === 'info' ? '' : ` of severity ${c.min_severity} and worse`}, from now on\n`,
        );
      } catch (e) {
        if (e instanceof ChannelError) throw new UsageError(e.message);
        throw e;
      }
    };
  }
  const name = rest[0];
  if (!name || rest.length > 1) throw new UsageError(`usage: ${VIGIL} channels remove NAME`);
  return async (db) => {
    await requireCurrentSchema(db, `${VIGIL} migrate`);
    if (!(await removeChannel(db, name))) throw new UsageError(`no channel named "${name}"; see ${VIGIL} channels list`);
    out(`removed ${name}\n`);
  };
}
