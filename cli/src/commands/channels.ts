import { parseArgs } from 'node:util';
import { maskChannelUrl } from '@vigil/core/channels';
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
        ['NAME', 'KIND', 'ENABLED', 'URL'],
        channels.map((c) => [c.name, c.kind, c.enabled ? 'yes' : 'no', maskChannelUrl(c.kind, c.url)]),
        out,
      );
    };
  }
  if (sub === 'add') {
    const usage = `usage: ${VIGIL} channels add NAME (--webhook URL | --slack URL | --alertmanager URL)`;
    const { values, positionals } = parseArgs({
      args: rest,
      options: { webhook: { type: 'string' }, slack: { type: 'string' }, alertmanager: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const kinds = (['webhook', 'slack', 'alertmanager'] as const).filter((k) => values[k] !== undefined);
    if (positionals.length !== 1 || kinds.length !== 1) throw new UsageError(usage);
    const kind = kinds[0]!;
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      try {
        const c = await addChannel(db, { name: positionals[0]!, kind, url: values[kind]! });
        out(`added ${c.name} (${c.kind} ${maskChannelUrl(c.kind, c.url)}); it gets the down and recovery events from now on\n`);
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
