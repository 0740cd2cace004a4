import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { maskChannelUrl } from '@vigil/core/channels';
import { ConfigError } from '@vigil/core/config';
import { closedPort } from '@vigil/core/testing';
import {
  CONNECT_TIMEOUT_MS,
  createDb,
  DatabaseUnreachableError,
  type EmbeddedPostgres,
  MIGRATION_NAMES,
  SchemaBehindError,
  startEmbeddedPostgres,
} from '@vigil/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTargetUrl, describeFailure, runDbCommand, UsageError } from './commands.js';
import { localUrl } from './start.js';

describe('vigil targets and migrate', () => {
  // One embedded database served on loopback, as under `vigil start`: each
  // command connects to it (cheap) rather than opening PGlite's files anew.
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
  const env: Record<string, string> = {};
  let embedded: EmbeddedPostgres;
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres(path.join(dir, 'pgdata'));
    env.DATABASE_URL = embedded.url;
  });
  afterAll(async () => {
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const passwords: string[] = [];
  const asked: string[] = [];
  const run = async (...argv: string[]) => {
    let text = '';
    await runDbCommand(
      argv,
      (s) => (text += s),
      env,
      async (prompt) => {
        asked.push(prompt);
        return passwords.shift() ?? '';
      },
    );
    return text;
  };

  it('migrates, adds, lists, refuses duplicates and bad input, and removes', async () => {
    expect(await run('migrate')).toBe(`applied: ${MIGRATION_NAMES.join(', ')}\n`);
    expect(await run('migrate')).toBe('schema is up to date\n');
    expect(await run('targets', 'list')).toMatch(/^no targets/);
    expect(await run('targets', 'add', 'pi-1', 'http://pi-1.lan:9110', '--interval', '30s', '--label', 'rack=a')).toBe(
      'added pi-1 (http://pi-1.lan:9110/metrics, every 30s)\n',
    );
    const table = await run('targets', 'list');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+STATE\s+INTERVAL\s+TIMEOUT\s+URL$/);
    expect(table).toMatch(/^pi-1\s+unknown\s+30s\s+10s\s+http:\/\/pi-1\.lan:9110\/metrics$/m);
    const json = JSON.parse(await run('targets', 'list', '--json'));
    expect(json[0]).toMatchObject({ name: 'pi-1', labels: { rack: 'a' }, interval_seconds: 30 });
    await expect(run('targets', 'add', 'pi-1', 'http://x:9110/metrics')).rejects.toThrow(/exists already/);
    await expect(run('targets', 'add', 'pi 2', 'http://x:9110/metrics')).rejects.toThrow(UsageError);
    await expect(run('targets', 'add', 'pi-2', 'ftp://x')).rejects.toThrow(/http:\/\/ or https:\/\//);
    await expect(run('targets', 'add', 'pi-2', 'http://x/metrics', '--interval', 'often')).rejects.toThrow(/--interval "often"/);
    await expect(run('targets', 'add', 'pi-2', 'http://x/metrics', '--interval', '5s', '--timeout', '10s')).rejects.toThrow(
      /--timeout "10s" must be a duration from 100 ms to the interval \(5s\)/,
    );
    await expect(run('targets', 'add', 'pi-2', 'http://x/metrics', '--label', 'no-equals')).rejects.toThrow(/key=value/);
    await expect(run('targets', 'add', 'pi-2', 'http://x/metrics', '--label', 'job=x')).rejects.toThrow(
      /--label: label name "job" is one Vigil or Prometheus sets itself/,
    );
    await expect(run('targets', 'add', 'pi-2', 'http://x/metrics', '--label', '__name__=x')).rejects.toThrow(/Prometheus' own/);
    await expect(run('targets', 'add', 'pi-2')).rejects.toThrow(/usage: npx vigil targets add/);
    // A host's own token (install.sh's /etc/vigil/exporter.token), from a file; listed only as has_token.
    const tokenDir = mkdtempSync(path.join(tmpdir(), 'vigil-token-'));
    try {
      writeFileSync(path.join(tokenDir, 'good'), 'a-host-of-its-own-0123456789\n');
      writeFileSync(path.join(tokenDir, 'short'), 'short\n');
      expect(await run('targets', 'add', 'pi-3', 'http://pi-3.lan:9110', '--token-file', path.join(tokenDir, 'good'))).toBe(
        'added pi-3 (http://pi-3.lan:9110/metrics, every 15s, with its own token)\n',
      );
      const listed = await run('targets', 'list', '--json');
      expect(JSON.parse(listed).find((t: { name: string }) => t.name === 'pi-3')).toMatchObject({ has_token: true });
      expect(listed).not.toContain('a-host-of-its-own');
      await expect(run('targets', 'add', 'pi-4', 'http://x/metrics', '--token-file', path.join(tokenDir, 'short'))).rejects.toThrow(
        /--token-file .*short: the token must be 16 to 200 printable characters/,
      );
      await expect(run('targets', 'add', 'pi-4', 'http://x/metrics', '--token-file', path.join(tokenDir, 'none'))).rejects.toThrow(
        /--token-file .*none: cannot read it \(ENOENT\)/,
      );
      expect(await run('targets', 'remove', 'pi-3')).toBe('removed pi-3\n');
    } finally {
      rmSync(tokenDir, { recursive: true, force: true });
    }
    await expect(run('targets', 'frobnicate')).rejects.toThrow(/unknown command "vigil targets frobnicate"/);
    expect(await run('targets', 'remove', 'pi-1')).toBe('removed pi-1\n');
    await expect(run('targets', 'remove', 'pi-1')).rejects.toThrow(/no target named "pi-1"/);
    expect(await run('migrate', '--down')).toBe(`reverted: ${MIGRATION_NAMES.at(-1)}\n`);
    // Only migrate changes the schema: the others say it is behind, and how to fix it.
    await expect(run('targets', 'list')).rejects.toThrow(
      `the database schema is behind (1 migration to apply: ${MIGRATION_NAMES.at(-1)}); bring it up to date with: npx vigil migrate`,
    );
    await expect(run('targets', 'list')).rejects.toThrow(SchemaBehindError);
    expect(await run('migrate')).toBe(`applied: ${MIGRATION_NAMES.at(-1)}\n`);
  });

  it('adds, lists and removes notification channels, refusing bad input with a reason', async () => {
    expect(await run('channels', 'list')).toMatch(/^no channels/);
    expect(await run('channels', 'add', 'ops', '--webhook', 'https://hooks.lan/vigil')).toBe(
      'added ops (webhook https://hooks.lan/***); it gets the down and recovery events, and every alert, from now on\n',
    );
    expect(await run('channels', 'add', 'chat', '--slack', 'https://hooks.slack.com/services/T000/B000/XXXXSECRET')).not.toContain(
      'XXXXSECRET',
    );
    expect(await run('channels', 'add', 'am', '--alertmanager', 'http://am.lan:9093')).toMatch(/^added am \(alertmanager/);
    const table = await run('channels', 'list');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+KIND\s+ENABLED\s+URL\s+ALERTS$/);
    expect(table).toMatch(/^ops\s+webhook\s+yes\s+https:\/\/hooks\.lan\/\*\*\*\s+all$/m);
    expect(table).toMatch(/^am\s+alertmanager\s+yes\s+http:\/\/am\.lan:9093\/\s+all$/m);
    expect(table).toMatch(/^chat\s+slack\s+yes\s+https:\/\/hooks\.slack\.com\/\*\*\*\s+all$/m);
    expect(
      await run(
        'channels',
        'add',
        'mail',
        '--email',
        'smtp://vigil:hunter2@mail.lan:587?from=vigil@lan&to=ops@lan',
        '--matchers',
        'rack=a',
        '--min-severity',
        'critical',
      ),
    ).toBe(
      'added mail (email smtp://vigil:***@mail.lan:587/***); it gets the down and recovery events, and the alerts matching rack=a of severity critical and worse, from now on\n',
    );
    expect(await run('channels', 'list')).toMatch(
      /^mail\s+email\s+yes\s+smtp:\/\/vigil:\*\*\*@mail\.lan:587\/\*\*\*\s+rack=a \(critical\+\)$/m,
    );
    await expect(run('channels', 'add', 'm2', '--email', 'smtp://mail.lan')).rejects.toThrow(/needs \?from=<address>&to=/);
    await expect(run('channels', 'add', 'p', '--pushover', 'https://api.pushover.net/1/messages.json?token=x')).rejects.toThrow(
      /needs \?token=/,
    );
    await expect(run('channels', 'add', 't', '--telegram', 'https://api.telegram.org/botX/sendMessage')).rejects.toThrow(
      /needs \?chat_id=/,
    );
    await expect(run('channels', 'add', 'r', '--ntfy', 'https://ntfy.sh/t', '--min-severity', 'loud')).rejects.toThrow(
      /min_severity is one of/,
    );
    await expect(run('channels', 'add', 'r', '--ntfy', 'https://ntfy.sh/t', '--matchers', 'rack')).rejects.toThrow(/matcher "rack"/);
    await expect(run('channels', 'add', 'r', '--ntfy', 'https://ntfy.sh/t', '--group-by', 'a b')).rejects.toThrow(/is not a label name/);
    expect(table).not.toContain('XXXXSECRET');
    await expect(run('channels', 'add', 'ops', '--slack', 'https://x/y')).rejects.toThrow(UsageError);
    await expect(run('channels', 'add', 'two', '--slack', 'https://x/y', '--webhook', 'https://x/z')).rejects.toThrow(
      /usage: npx vigil channels add NAME --KIND URL/,
    );
    await expect(run('channels', 'add', 'x', '--slack', 'not a url')).rejects.toThrow(/is not a URL/);
    await expect(run('channels', 'frob')).rejects.toThrow(/unknown command "vigil channels frob"/);
    expect(await run('channels', 'set', 'mail', '--matchers', 'rack=b', '--group-wait', '1m', '--repeat-interval', '2h', '--disable')).toBe(
      'mail: off; alerts rack=b (critical and worse), grouped by alertname, wait 60 s, interval 300 s, repeat 7200 s\n',
    );
    expect(await run('channels', 'set', 'mail', '--enable', '--min-severity', 'info', '--group-by', 'rack')).toMatch(
      /^mail: on; alerts rack=b, grouped by rack,/,
    );
    await expect(run('channels', 'set', 'mail', '--group-wait', 'soon')).rejects.toThrow(/--group-wait "soon": give a duration/);
    await expect(run('channels', 'set', 'mail', '--group-wait', '2h')).rejects.toThrow(
      /group_wait_seconds is whole seconds from 0 to 3600/,
    );
    await expect(run('channels', 'set', 'nope')).rejects.toThrow(/no channel named "nope"/);
    await expect(run('channels', 'set', 'mail', '--enable', '--disable')).rejects.toThrow(/usage: npx vigil channels set NAME/);
    expect(await run('channels', 'remove', 'ops')).toBe('removed ops\n');
    await expect(run('channels', 'remove', 'ops')).rejects.toThrow(/no channel named "ops"/);
  });

  it('manages alert rules and silences, refusing what cannot work with the field, and audits each change', async () => {
    expect(await run('alerts', 'rules')).toMatch(/^no rules; add the defaults with: npx vigil alerts defaults/);
    expect(await run('alerts', 'defaults')).toMatch(/^added \d+ default rules\n$/);
    expect(await run('alerts', 'defaults')).toBe('every default rule is there already (by name)\n');
    const rules = await run('alerts', 'rules');
    expect(rules.split('\n')[0]).toMatch(/^NAME\s+KIND\s+SEVERITY\s+ENABLED\s+HOSTS\s+SPEC$/);
    expect(rules).toMatch(/^HostDiskFull\s+threshold\s+critical\s+yes\s+all\s+figure=disk_usage_percent for_seconds=300 op=> value=90$/m);
    const file = path.join(dir, 'rule.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'LabHot', kind: 'threshold', figure: 'temperature_celsius', value: 70, selector: 'env=lab' }),
    );
    expect(await run('alerts', 'add-rule', file)).toBe(
      'added the rule LabHot\nwarning: the selector "env=lab" matches no host today: the rule is saved and applies to hosts that match later\n',
    );
    writeFileSync(file, JSON.stringify({ name: 'Bad', kind: 'threshold', figure: 'temperature_celsius', value: 70, for_seconds: -1 }));
    await expect(run('alerts', 'add-rule', file)).rejects.toThrow(/^for_seconds: /);
    writeFileSync(file, '{ not json');
    await expect(run('alerts', 'add-rule', file)).rejects.toThrow(/cannot read the rule from .*rule\.json/);
    expect(await run('alerts', 'remove-rule', 'LabHot')).toBe('removed the rule LabHot and its alerts\n');
    await expect(run('alerts', 'remove-rule', 'LabHot')).rejects.toThrow(/no rule named "LabHot"/);
    expect(await run('alerts', 'list')).toBe('nothing is firing or pending\n');
    expect(await run('alerts', 'list', '--all')).toBe('no alerts yet\n');
    const silenced = await run('alerts', 'silence', 'rack=a', '--for', '30m', '--comment', 'recabling');
    expect(silenced).toMatch(/^silence (\d+): rack=a until \d{4}-.*Z\n$/);
    const window = await run('alerts', 'silence', 'alertname=HostHighCpu', '--schedule', '0 2 * * 0', '--window', '1h');
    expect(window).toContain('during 0 2 * * 0 (UTC) for 3600 s each');
    const list = await run('alerts', 'silences');
    expect(list).toMatch(/^\d+\s+rack=a\s+.*\s+-\s+cli \(.*\)\s+recabling$/m);
    await expect(run('alerts', 'silence', 'rack')).rejects.toThrow(/matcher "rack": write name=value/);
    await expect(run('alerts', 'silence', 'a=b', '--schedule', 'often', '--window', '1h')).rejects.toThrow(/is not a cron expression/);
    await expect(run('alerts', 'silence', 'a=b', '--schedule', '0 2 * * 0')).rejects.toThrow(/needs both --schedule CRON and --window/);
    await expect(run('alerts', 'silence', 'a=b', '--for', 'soon')).rejects.toThrow(/--for "soon": give a duration/);
    const id = /^silence (\d+)/.exec(silenced)![1]!;
    expect(await run('alerts', 'expire', id)).toBe(`ended silence ${id} (rack=a)\n`);
    await expect(run('alerts', 'expire', id)).rejects.toThrow(/no live silence/);
    await expect(run('alerts', 'expire', 'x')).rejects.toThrow(/"x" is not a silence id/);
    await expect(run('alerts', 'frob')).rejects.toThrow(/unknown command "vigil alerts frob"/);
    await expect(run('alerts', 'rules', 'extra')).rejects.toThrow(/usage: npx vigil alerts list/);
    const db = await createDb(env.DATABASE_URL!, { max: 1 });
    try {
      const actions = (
        await db.selectFrom('audit_log').select(['action', 'user_name']).where('action', 'like', 'alert_rule.%').execute()
      ).map((r) => r.action);
      expect(actions).toEqual(['alert_rule.create', 'alert_rule.remove']);
    } finally {
      await db.destroy();
    }
  });

  it('makes enrolment tokens printed once, lists them with uses left, revokes them, and approves or rejects pending hosts', async () => {
    await run('migrate');
    const made = await run('enrol-tokens', 'add', 'rack-b', '--max-uses', '2', '--expires', '24h', '--label', 'rack=b', '--approval');
    const token = /VIGIL_ENROL_TOKEN=(vge_\S+)/.exec(made)?.[1];
    expect(token).toMatch(/^vge_/);
    expect(made).toMatch(/made enrolment token "rack-b" \(2 of 2 left, expires .*, hosts wait for approval\)/);
    const listed = await run('enrol-tokens', 'list');
    expect(listed.split('\n')[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+USES\s+EXPIRES\s+APPROVAL\s+LABELS\s+STATUS$/);
    expect(listed).toMatch(/rack-b\s+vge_\S{4}…\s+2 of 2 left\s+\S+\s+required\s+rack=b\s+usable/);
    expect(listed).not.toContain(token);
    expect(JSON.parse(await run('enrol-tokens', 'list', '--json'))[0]).toMatchObject({ name: 'rack-b', uses_left: 2 });
    await expect(run('enrol-tokens', 'add', 'rack-b')).rejects.toThrow(/exists already/);
    await expect(run('enrol-tokens', 'add', 'x', '--max-uses', '0')).rejects.toThrow(/--max-uses "0" must be a whole number/);
    await expect(run('enrol-tokens', 'add', 'x', '--expires', 'soon')).rejects.toThrow(/--expires "soon" must be a duration/);
    await expect(run('enrol-tokens', 'add', 'x', '--label', 'job=x')).rejects.toThrow(/--label: .*sets itself/);
    await expect(run('enrol-tokens', 'add', 'x', '--label', 'nolabel')).rejects.toThrow(/must be key=value/);
    await expect(run('enrol-tokens', 'add')).rejects.toThrow(/usage: .*enrol-tokens add NAME/);
    await expect(run('enrol-tokens', 'bogus')).rejects.toThrow(/unknown command "vigil enrol-tokens bogus"/);
    expect(await run('enrol-tokens', 'revoke', 'rack-b')).toMatch(/revoked enrolment token "rack-b"; the hosts it enrolled stay/);
    expect(await run('enrol-tokens', 'list')).toMatch(/rack-b.*revoked/);
    await expect(run('enrol-tokens', 'revoke', 'nope')).rejects.toThrow(/no enrolment token named "nope"/);

    // A host waiting for approval, as an enrolment with such a token leaves it.
    const db = await createDb(env.DATABASE_URL!, { max: 1 });
    try {
      for (const name of ['pending-1', 'pending-2']) {
        await db
          .insertInto('targets')
          .values({ name, url: `http://${name}/metrics`, pending_approval: true, paused: true })
          .execute();
      }
      expect(await run('targets', 'list')).toMatch(/pending-1\s+pending approval/);
      expect(await run('targets', 'approve', 'pending-1')).toMatch(/approved pending-1: it is scraped from now on/);
      expect(
        await db.selectFrom('targets').select(['paused', 'pending_approval']).where('name', '=', 'pending-1').executeTakeFirst(),
      ).toEqual({
        paused: false,
        pending_approval: false,
      });
      await expect(run('targets', 'approve', 'pending-1')).rejects.toThrow(/not waiting for approval/);
      expect(await run('targets', 'reject', 'pending-2')).toMatch(/rejected pending-2: removed/);
      await expect(run('targets', 'reject', 'pending-2')).rejects.toThrow(/no target named "pending-2"/);
      const audit = (await db.selectFrom('audit_log').select('action').execute()).map((a) => a.action);
      expect(audit).toEqual(
        expect.arrayContaining(['enrolment_token.create', 'enrolment_token.revoke', 'target.approve', 'target.reject']),
      );
      await db.deleteFrom('targets').where('name', '=', 'pending-1').execute();
    } finally {
      await db.destroy();
    }
  });

  it('refuses bad command lines before touching the database, with the usage or a range', async () => {
    await expect(run('targets')).rejects.toThrow(
      /usage: npx vigil targets list \[--json\]\n.*targets add NAME URL.*\n.*targets remove NAME/s,
    );
    await expect(run('channels')).rejects.toThrow(/usage: npx vigil channels list/);
    await expect(run('targets', 'add', 'a', 'http://x/metrics', '--interval=-5s')).rejects.toThrow(
      /--interval "-5s" must be whole seconds from 1 s to 24 h/,
    );
    const dashed = await run('targets', 'add', 'a', 'http://x/metrics', '--interval', '-5s').catch((e: Error) => e);
    expect(describeFailure(dashed)).toMatchObject({ code: 2, message: expect.stringMatching(/--interval.*see npx vigil --help/) });
    await expect(run('targets', 'add', 'a', 'http://x/metrics', '--interval', '100000h')).rejects.toThrow(
      /--interval "100000h" must be whole seconds from 1 s to 24 h/,
    );
    await expect(run('targets', 'add', 'a', 'http://x/metrics', '--timeout', '1ms')).rejects.toThrow(
      /--timeout "1ms" must be a duration from 100 ms/,
    );
    await expect(run('targets', 'list', '--csv')).rejects.toMatchObject({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });

  it('creates, lists, re-roles, re-passwords and removes console users, auditing each change', async () => {
    expect(await run('users', 'list')).toMatch(/^no users; add one with: npx vigil users create NAME --role admin/);
    passwords.push('ada-password-1');
    expect(await run('users', 'create', 'ada', '--role', 'admin')).toBe('created ada (admin)\n');
    expect(asked.at(-1)).toBe('password for ada (at least 10 characters)');
    const generated = await run('users', 'create', 'vic', '--role', 'viewer', '--generate-password');
    const pw = /^password: (\S+)$/m.exec(generated)?.[1];
    expect(pw).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const table = await run('users', 'list');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+ROLE\s+CREATED\s+PASSWORD CHANGED$/);
    expect(table).toMatch(/^ada\s+admin\s/m);
    expect(table).toMatch(/^vic\s+viewer\s/m);
    expect(table).not.toMatch(/argon2|\$/);
    passwords.push('short');
    await expect(run('users', 'create', 'bob', '--role', 'viewer')).rejects.toThrow(/at least 10 characters/);
    await expect(run('users', 'create', 'bob')).rejects.toThrow(/needs --role/);
    await expect(run('users', 'create', 'bob', '--role', 'root', '--generate-password')).rejects.toThrow(/not one of admin/);
    await expect(run('users', 'create', 'ada', '--role', 'viewer', '--generate-password')).rejects.toThrow(/exists already/);
    expect(await run('users', 'set-role', 'vic', 'operator')).toBe('vic is now operator (was viewer)\n');
    await expect(run('users', 'set-role', 'ada', 'viewer')).rejects.toThrow(/ada is the only admin/);
    await expect(run('users', 'remove', 'ada')).rejects.toThrow(UsageError);
    passwords.push('vic-password-2');
    expect(await run('users', 'reset-password', 'vic')).toBe('new password set for vic; their sessions were ended\n');
    await expect(run('users', 'reset-password', 'nobody', '--generate-password')).rejects.toThrow(/no user named "nobody"/);
    expect(await run('users', 'remove', 'vic')).toBe('removed vic\n');
    await expect(run('users', 'frob')).rejects.toThrow(/unknown command "vigil users frob"/);
    await expect(run('users', 'create', 'a', 'b', '--role', 'admin')).rejects.toThrow(/usage: npx vigil users list/);
    const db = await createDb(env.DATABASE_URL!, { max: 1 });
    try {
      const audit = await db
        .selectFrom('audit_log')
        .select(['action', 'user_name', 'before', 'after'])
        .where('object_type', '=', 'user')
        .orderBy('id')
        .execute();
      expect(audit.map((a) => a.action)).toEqual(['user.create', 'user.create', 'user.set_role', 'user.reset_password', 'user.remove']);
      expect(audit[2]).toMatchObject({ before: { name: 'vic', role: 'viewer' }, after: { name: 'vic', role: 'operator' } });
      expect(audit[0]!.user_name).toMatch(/^cli \(/);
      expect(JSON.stringify(audit)).not.toContain('ada-password-1');
    } finally {
      await db.destroy();
    }
  });

  it('never prints the password of a target URL', async () => {
    expect(await run('targets', 'add', 'basic', 'http://scrape:hunter2@pi-9.lan:9110/metrics')).toBe(
      'added basic (http://scrape:***@pi-9.lan:9110/metrics, every 15s)\n',
    );
    const listed = `${await run('targets', 'list')}${await run('targets', 'list', '--json')}`;
    expect(listed).toContain('http://scrape:***@pi-9.lan:9110/metrics');
    expect(listed).not.toContain('hunter2');
    await run('targets', 'remove', 'basic');
  });

  it("never prints a target's own token, only that it has one", async () => {
    await run('targets', 'add', 'tokened', 'http://pi-8.lan:9110/metrics');
    const db = await createDb(env.DATABASE_URL!, { max: 1 });
    try {
      await db.updateTable('targets').set({ token: 'a-per-target-secret-token' }).where('name', '=', 'tokened').execute();
    } finally {
      await db.destroy();
    }
    const listed = `${await run('targets', 'list')}${await run('targets', 'list', '--json')}`;
    expect(listed).not.toContain('a-per-target-secret-token');
    const json = JSON.parse(await run('targets', 'list', '--json')) as { name: string; has_token: boolean; token?: unknown }[];
    expect(json.find((t) => t.name === 'tokened')).toMatchObject({ has_token: true, heartbeat: null });
    expect(json.find((t) => t.name === 'tokened')).not.toHaveProperty('token');
    await run('targets', 'remove', 'tokened');
  });
});

describe('a DATABASE_URL that names no database Vigil can use', () => {
  it('is refused as configuration (exit 2), password masked', async () => {
    const err = await runDbCommand(['targets', 'list'], () => {}, { DATABASE_URL: 'mysql://root:hunter2@db/vigil' }).catch((e: Error) => e);
    expect(describeFailure(err)).toMatchObject({
      code: 2,
      message: expect.stringMatching(/DATABASE_URL: must be postgres:\/\/.*mysql:\/\/root:\*\*\*@db\/vigil/s),
    });
    expect((err as Error).message).not.toContain('hunter2');
  });
});

describe('an unreachable database', () => {
  it('is named with DATABASE_URL and its address, password masked', async () => {
    const port = await closedPort();
    const err = await runDbCommand(['targets', 'list'], () => {}, {
      DATABASE_URL: `postgres://vigil:hunter2@127.0.0.1:${port}/vigil`,
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(DatabaseUnreachableError);
    expect((err as Error).message).toBe(
      `cannot reach the database at postgres://vigil:***@127.0.0.1:${port}/vigil (DATABASE_URL): connection refused: is PostgreSQL running and listening there?`,
    );
  });

  it('that accepts connections but never answers gives up within the connect timeout, saying so', async () => {
    const silent = net.createServer(() => {}); // accepts, says nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const err = await runDbCommand(['migrate'], () => {}, { DATABASE_URL: `postgres://vigil@127.0.0.1:${port}/vigil` }).catch(
        (e: Error) => e,
      );
      expect((err as Error).message).toBe(
        `cannot reach the database at postgres://vigil@127.0.0.1:${port}/vigil (DATABASE_URL): no answer within ${CONNECT_TIMEOUT_MS / 1000} s`,
      );
      expect(CONNECT_TIMEOUT_MS).toBeLessThanOrEqual(5000);
    } finally {
      silent.close();
    }
  });
});

describe('maskChannelUrl', () => {
  it.each([
    ['slack', 'https://hooks.slack.com/services/T0/B0/secret', 'https://hooks.slack.com/***'],
    ['webhook', 'https://hooks.lan/vigil?token=abc', 'https://hooks.lan/***'],
    ['alertmanager', 'http://admin:pw@am.lan:9093', 'http://admin:***@am.lan:9093/'],
  ])('%s %s → %s', (kind, url, shown) => expect(maskChannelUrl(kind, url)).toBe(shown));
});

describe('checkTargetUrl', () => {
  it.each([
    ['http://h:9110', 'http://h:9110/metrics'],
    ['https://h/custom/path', 'https://h/custom/path'],
  ])('%s → %s', (raw, url) => expect(checkTargetUrl(raw)).toBe(url));
  it('refuses what is not a URL', () => expect(() => checkTargetUrl('pi-1:9110x')).toThrow(UsageError));
});

describe('describeFailure', () => {
  it.each([
    [new UsageError('bad'), 2],
    [new ConfigError('bad'), 2],
    [Object.assign(new Error('Unknown option --x'), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }), 2],
    [new Error('database is down'), 1],
  ])('%s → exit %i', (err, code) => expect(describeFailure(err).code).toBe(code));
});

describe('localUrl', () => {
  it.each([
    [{ host: '0.0.0.0', port: 9110 }, 'http://127.0.0.1:9110'],
    [{ host: '::', port: 9110 }, 'http://[::1]:9110'],
    [{ host: '::1', port: 3000 }, 'http://[::1]:3000'],
    [{ host: '10.0.0.5', port: 80 }, 'http://10.0.0.5:80'],
  ])('%o → %s', (listen, url) => expect(localUrl(listen)).toBe(url));
});
