import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded.js';

// Several processes (scraper, console, CLI) share the embedded database through
// its socket server, each with a pool of connections sending the extended
// protocol (Parse, Bind, Execute, Sync): one connection's messages must never
// run between another's, or a Bind meets the wrong statement.
describe('the embedded server under concurrent connections', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-embedded-'));
  let embedded: EmbeddedPostgres;
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres(path.join(dir, 'pgdata'));
  });
  afterAll(async () => {
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps each connection’s statements whole: parameterised queries of different shapes, many at once', async () => {
    const pool = new pg.Pool({ connectionString: embedded.url, max: 8 });
    try {
      await pool.query(
        'create table t (a int, b text, c text, d text, e text, f text, g text, h text, i text, j text, k text, l text, m text)',
      );
      const wide = Array.from({ length: 26 }, (_, i) => `$${i + 1}`);
      const insert = `insert into t values (${wide.slice(0, 13).join(', ')}), (${wide.slice(13).join(', ')})`;
      const row = (n: number) => [n, ...Array.from({ length: 12 }, () => 'x'.repeat(200))];
      const errors: string[] = [];
      await Promise.all(
        Array.from({ length: 400 }, (_, n) =>
          (n % 2 ? pool.query(insert, [...row(n), ...row(n)]) : pool.query('select $1::int + $2::int + $3::int as s', [n, 1, 2])).catch(
            (e: Error) => errors.push(e.message),
          ),
        ),
      );
      expect(errors).toEqual([]);
      expect((await pool.query('select count(*)::int as n from t')).rows[0].n).toBe(400);
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('keeps statements whole while another connection runs transactions', async () => {
    const clients = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const c = new pg.Client({ connectionString: embedded.url });
        await c.connect();
        return c;
      }),
    );
    try {
      await clients[0]!.query(
        'create table w (a int, b text, c text, d text, e text, f text, g text, h text, i text, j text, k text, l text, m text)',
      );
      const wide = Array.from({ length: 26 }, (_, i) => `$${i + 1}`);
      const insert = `insert into w values (${wide.slice(0, 13).join(', ')}), (${wide.slice(13).join(', ')})`;
      const row = (n: number) => [n, ...Array.from({ length: 12 }, () => 'x'.repeat(2000))];
      const errors: string[] = [];
      await Promise.all(
        clients.map(async (c, k) => {
          for (let n = 0; n < 100; n++) {
            try {
              if (k === 0) {
                await c.query('begin');
                await c.query('select $1::int as one', [1]);
                await c.query('commit');
              } else if ((n + k) % 2) await c.query(insert, [...row(n), ...row(n)]);
              else await c.query('select $1::int + $2::int + $3::int as s', [n, 1, 2]);
            } catch (err) {
              errors.push((err as Error).message);
            }
          }
        }),
      );
      expect(errors).toEqual([]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  }, 60_000);

  it('keeps a transaction to its connection, and rolls back one whose client went away', async () => {
    const a = new pg.Client({ connectionString: embedded.url });
    const b = new pg.Client({ connectionString: embedded.url });
    await a.connect();
    await b.connect();
    try {
      await a.query('create table u (n int)');
      await a.query('begin');
      await a.query('insert into u values (1)');
      const other = b.query('insert into u values (2)'); // waits for a's transaction
      await a.query('insert into u values (3)');
      await a.query('commit');
      await other;
      expect((await b.query('select n from u order by n')).rows.map((r) => r.n)).toEqual([1, 2, 3]);
      // A client that dies inside a transaction leaves nothing half done behind.
      const c = new pg.Client({ connectionString: embedded.url });
      await c.connect();
      c.on('error', () => {});
      await c.query('begin');
      await c.query('insert into u values (4)');
      (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      expect((await b.query('select count(*)::int as n from u')).rows[0].n).toBe(3);
    } finally {
      await a.end();
      await b.end();
    }
  }, 60_000);
});
