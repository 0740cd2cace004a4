import { parseArgs } from 'node:util';
import { CHANNEL_KINDS, maskChannelUrl } from '@vigil/core/channels';
import { parseDuration } from '@vigil/core/config';
import { addChannel, ChannelError, listChannels, removeChannel, requireCurrentSchema, updateChannel, writeAudit } from '@vigil/db';
import { type DbWork, type Out, printTable, UsageError, VIGIL } from './shared.js';

/** `vigil channels list|add|set|remove`: reads the command line (throwing UsageError), returns the database work. */
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
  if (sub === 'set') {
    const usage = `usage: ${VIGIL} channels set NAME [--matchers M] [--min-severity S] [--group-by LABELS] [--group-wait 30s] [--group-interval 5m] [--repeat-interval 4h] [--enable | --disable]`;
    const { values, positionals } = parseArgs({
      args: rest,
      options: {
        matchers: { type: 'string' },
        'min-severity': { type: 'string' },
        'group-by': { type: 'string' },
        'group-wait': { type: 'string' },
        'group-interval': { type: 'string' },
        'repeat-interval': { type: 'string' },
        enable: { type: 'boolean' },
        disable: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1 || (values.enable && values.disable)) throw new UsageError(usage);
    const seconds = (v: string | undefined, flag: string) => {
      if (v === undefined) return undefined;
      const s = parseDuration(v);
      if (s === null) throw new UsageError(`--${flag} "${v}": give a duration such as 0s, 30s, 5m or 4h`);
      return Math.round(s);
    };
    const patch = {
      matchers: values.matchers,
      min_severity: values['min-severity'],
      group_by: values['group-by'],
      group_wait_seconds: seconds(values['group-wait'], 'group-wait'),
      group_interval_seconds: seconds(values['group-interval'], 'group-interval'),
      repeat_interval_seconds: seconds(values['repeat-interval'], 'repeat-interval'),
      enabled: values.enable ? true : values.disable ? false : undefined,
    };
    return async (db) => {
      await requireCurrentSchema(db, `${VIGIL} migrate`);
      const c = (await listChannels(db)).find((x) => x.name === positionals[0]);
      if (!c) throw new UsageError(`no channel named "${positionals[0]}"; see ${VIGIL} channels list`);
      try {
        const after = (await updateChannel(db, c.id, patch))!;
        await writeAudit(db, {
          user: null,
          action: 'channel.update',
          objectType: 'channel',
          objectId: c.id,
          after: { ...patch, enabled: after.enabled },
        });
        out(
          `${after.name}: ${after.enabled ? 'on' : 'off'}; alerts ${after.matchers || 'all'}${after.min_severity === 'info' ? '' : ` (${after.min_severity} and worse)`}, grouped by ${after.group_by}, wait ${after.group_wait_seconds} s, interval ${after.group_interval_seconds} s, repeat ${after.repeat_interval_seconds} s\n`,
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
