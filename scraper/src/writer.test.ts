import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@vigil/core/log';
import { closedPort } from '@vigil/core/testing';
import {
  addTarget,
  createDb,
  ensureHeartbeatPartitions,
  migrateToLatest,
  type NewHeartbeat,
  recentHeartbeats,
  startEmbeddedPostgres,
} from '@vigil/db';
import { afterAll, describe, expect, it } from 'vitest';
import { HeartbeatWriter } from './writer.js';

const silent = silentLogger();
const row = (target_id: number, time: Date): NewHeartbeat => ({
  target_id,
  time,
  up: true,
  duration_seconds: 0.01,
  error: null,
  samples: 1,
  cpu_usage_percent: null,
  memory_used_bytes: null,
  memory_total_bytes: null,
  disk_used_bytes: null,
  disk_total_bytes: null,
  load1: null,
  uptime_seconds: null,
});

describe('HeartbeatWriter', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-writer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps heartbeats while the database is away, drops the oldest past the bound and counts them, and writes the rest when it is back', async () => {
    const port = await closedPort();
    let server = await startEmbeddedPostgres(dir, port);
    const db = await createDb(server.url, { max: 2 });
    await migrateToLatest(db);
    await ensureHeartbeatPartitions(db);
    const t = await addTarget(db, { name: 'w', url: 'http://w/metrics' });
    const writer = new HeartbeatWriter(db, silent, { queueLimit: 3, batchSize: 2, backoffSeconds: 0.01 });

    await server.stop(); // the database goes away
    const base = Date.now();
    for (let i = 0; i < 5; i++) writer.push(row(t.id, new Date(base + i * 1000)));
    expect(writer.stats.dropped).toBe(2);
    expect(writer.queued).toBe(3);
    await writer.flush();
    expect(writer.stats.failedWrites).toBe(1);
    expect(writer.queued).toBe(3); // nothing lost on a failed write

    server = await startEmbeddedPostgres(dir, port); // back
    for (let i = 0; i < 10 && writer.queued > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await writer.flush(Date.now() + 60_000);
    }
    expect(writer.queued).toBe(0);
    const written = await recentHeartbeats(db, t.id);
    expect(written.map((h) => h.time.getTime()).sort()).toEqual([base + 2000, base + 3000, base + 4000]);
    expect(writer.stats.written).toBe(3);
    await db.destroy();
    await server.stop();
  });

  it('creates a missing day partition and writes', async () => {
    const db = await createDb('pglite://memory');
    await migrateToLatest(db);
    const t = await addTarget(db, { name: 'p', url: 'http://p/metrics' });
    const writer = new HeartbeatWriter(db, silent);
    const future = new Date('2031-06-01T12:00:00Z');
    writer.push(row(t.id, future));
    await writer.flush();
    expect(writer.queued).toBe(0);
    expect((await recentHeartbeats(db, t.id))[0]?.time.toISOString()).toBe(future.toISOString());
    await db.destroy();
  });

  it('keeps rows pushed while a batch is being written, even when the push drops part of that batch', async () => {
    const db = await createDb('pglite://memory');
    await migrateToLatest(db);
    await ensureHeartbeatPartitions(db);
    const t = await addTarget(db, { name: 'f', url: 'http://f/metrics' });
    const writer = new HeartbeatWriter(db, silent, { queueLimit: 3, batchSize: 10 });
    const base = Date.now();
    for (let i = 0; i < 3; i++) writer.push(row(t.id, new Date(base + i * 1000)));
    const flushing = writer.flush(); // writes rows 0–2
    writer.push(row(t.id, new Date(base + 3000))); // over the limit: row 0 leaves the queue
    writer.push(row(t.id, new Date(base + 4000))); // and row 1
    await flushing; // the same pass goes on to rows 3 and 4
    expect(writer.queued).toBe(0);
    // Nothing lost (a cut by position would lose rows 3 and 4), nothing written twice.
    expect((await recentHeartbeats(db, t.id)).map((h) => h.time.getTime() - base).sort((a, b) => a - b)).toEqual([
      0, 1000, 2000, 3000, 4000,
    ]);
    expect(writer.stats.written).toBe(5);
    await db.destroy();
  });

  it('drops the heartbeats of a target removed meanwhile, counts them, and writes the rest', async () => {
    const db = await createDb('pglite://memory');
    await migrateToLatest(db);
    await ensureHeartbeatPartitions(db);
    const kept = await addTarget(db, { name: 'kept', url: 'http://k/metrics' });
    const gone = await addTarget(db, { name: 'gone', url: 'http://g/metrics' });
    const writer = new HeartbeatWriter(db, silent, { backoffSeconds: 0.01 });
    const base = Date.now();
    writer.push(row(kept.id, new Date(base)));
    writer.push(row(gone.id, new Date(base)));
    writer.push(row(kept.id, new Date(base + 1000)));
    await db.deleteFrom('targets').where('id', '=', gone.id).execute(); // `vigil targets remove` while queued
    await writer.flush();
    expect(writer.queued).toBe(0);
    expect((await recentHeartbeats(db, kept.id)).length).toBe(2);
    expect(writer.stats.dropped).toBe(1);
    expect(writer.stats.written).toBe(2);
    await db.destroy();
  });

  it('does not retry before the backoff is over', async () => {
    const db = await createDb(`postgres://postgres@127.0.0.1:${await closedPort()}/none`);
    const writer = new HeartbeatWriter(db, silent, { backoffSeconds: 60 });
    writer.push(row(1, new Date()));
    await writer.flush();
    await writer.flush();
    expect(writer.stats.failedWrites).toBe(1);
    await db.destroy();
  });
});
