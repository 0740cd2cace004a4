import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addTarget, createUser, endTerminalSession, startTerminalSession } from '@vigil/db';
import { testDatabases } from '@vigil/db/testing';
import { describe, expect, it } from 'vitest';
import type { Principal } from './auth';
import { listTerminalSessionsFor, recordingResponse, terminalSessionFor, terminalSessionView } from './terminal-sessions';

describe.each(testDatabases())('terminal sessions in the API on $name', (engine) => {
  it('shows admins everyone’s, others only their own, with filters and the recording once ended', async () => {
    const { db, drop } = await engine.open();
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-casts-'));
    try {
      const alice = await createUser(db, { name: 'alice', role: 'developer', password: 'alice-password-1' });
      const root = await createUser(db, { name: 'root', role: 'admin', password: 'root-password-12' });
      const as = (user: typeof alice): Principal => ({ user, via: 'session' });
      const pi = await addTarget(db, { name: 'pi', url: 'http://pi/metrics' });
      const open = (user: typeof alice) =>
        startTerminalSession(db, {
          userId: user.id,
          userName: user.name,
          targetId: pi.id,
          targetName: pi.name,
          kind: 'shell',
          container: null,
          origin: 'http://localhost:3000',
          clientIp: '10.0.0.9',
        });
      const mine = await open(alice);
      const theirs = await open(root);
      const cast = path.join(dir, `${mine}.cast`);
      writeFileSync(cast, '{"version": 2, "width": 80, "height": 24}\n');
      const list = (who: Principal, query = '') =>
        listTerminalSessionsFor(db, who, new URL(`http://console/api/v1/terminal-sessions${query}`));

      expect((await list(as(root))).items.map((s) => s.user_name)).toEqual(['root', 'alice']);
      expect((await list(as(alice))).items.map((s) => s.id)).toEqual([mine]);
      expect((await list(as(root), '?user=alice')).items.map((s) => s.id)).toEqual([mine]);
      await expect(list(as(alice), '?user=root')).rejects.toMatchObject({ status: 403 });
      expect((await list(as(alice), '?user=alice&open=true')).total).toBe(1);
      expect((await list(as(root), `?host=${pi.id}&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z`)).total).toBe(2);
      expect((await list(as(root), '?since=2999-01-01')).total).toBe(0);
      await expect(list(as(root), '?since=yesterday')).rejects.toMatchObject({
        status: 400,
        message: expect.stringMatching(/since must be a time/),
      });
      await expect(list(as(root), '?open=maybe')).rejects.toMatchObject({ status: 400 });
      await expect(list(as(root), '?host=pi')).rejects.toMatchObject({ status: 404 });

      // One session: its owner and admins; for anyone else it does not exist.
      expect(terminalSessionView(await terminalSessionFor(db, as(alice), mine))).toMatchObject({
        user_name: 'alice',
        recording: null,
        ended_at: null,
      });
      await expect(terminalSessionFor(db, as(alice), theirs)).rejects.toMatchObject({ status: 404 });
      await expect(terminalSessionFor(db, as(root), 'x')).rejects.toMatchObject({ status: 404 });
      // Recorded and ended: where to fetch it, never the file's path.
      await endTerminalSession(db, mine, { bytesIn: 5, bytesOut: 40, exitCode: 0, exitSignal: null, reason: 'exit', recording: cast });
      const view = terminalSessionView(await terminalSessionFor(db, as(root), mine));
      expect(view).toMatchObject({
        recording: { url: `/api/v1/terminal-sessions/${mine}/recording` },
        bytes_out: 40,
        exit_code: 0,
        client_ip: '10.0.0.9',
      });
      expect(JSON.stringify(view)).not.toContain(dir);
      expect((await list(as(alice), '?open=false')).items.map((s) => s.id)).toEqual([mine]);
      // The recording itself (the API's and the admin page's replay): its bytes once ended; 409 while open; 404 unrecorded or gone.
      const served = recordingResponse(await terminalSessionFor(db, as(alice), mine));
      expect(served.headers.get('content-type')).toBe('application/x-asciicast');
      expect(await served.text()).toBe('{"version": 2, "width": 80, "height": 24}\n');
      const live = await terminalSessionFor(db, as(root), theirs); // never recorded, still open
      expect(() => recordingResponse(live)).toThrow(/was not recorded/);
      expect(() => recordingResponse({ ...live, recording: cast })).toThrow(/still open/);
      rmSync(cast);
      expect(() => recordingResponse({ ...live, recording: cast, ended_at: new Date() })).toThrow(/file is gone/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await drop();
    }
  });
});
