import * as jose from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generateTicketKeys,
  importTicketPrivateKey,
  importTicketPublicKey,
  mintTicket,
  parseClientControl,
  REFUSAL_TEXT,
  type TicketKey,
  TicketVerifier,
} from './pty.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('tickets', () => {
  let priv: TicketKey;
  let pub: TicketKey;
  let otherPriv: TicketKey;
  beforeAll(async () => {
    const keys = await generateTicketKeys();
    priv = await importTicketPrivateKey(keys.privateKeyPem);
    pub = await importTicketPublicKey(keys.publicKeyPem);
    otherPriv = await importTicketPrivateKey((await generateTicketKeys()).privateKeyPem);
  });
  const grant = { kind: 'shell' as const, cols: 80, rows: 24 };

  it('accepts a fresh ticket for this exporter once, and refuses it the second time', async () => {
    const v = new TicketVerifier(pub, 'web-1');
    const t = await mintTicket(priv, { audience: 'web-1', subject: 'alice', grant });
    const first = await v.verify(`Bearer ${t}`);
    expect(first).toMatchObject({ ok: true, ticket: { subject: 'alice', grant } });
    expect(await v.verify(`Bearer ${t}`)).toEqual({ ok: false, reason: 'replayed' });
  });

  it.each([
    ['no header', async () => undefined, 'missing'],
    ['an empty bearer', async () => 'Bearer ', 'missing'],
    ['another scheme', async () => 'Basic dXNlcjpwYXNz', 'missing'],
    ['garbage', async () => 'Bearer not.a.jws', 'malformed'],
    [
      'a bad signature',
      async (p: TicketKey) => {
        const t = await mintTicket(p, { audience: 'web-1', subject: 'alice', grant });
        const [h, b, s] = t.split('.');
        const flipped = (s![0] === 'A' ? 'B' : 'A') + s!.slice(1);
        return `Bearer ${h}.${b}.${flipped}`;
      },
      'signature',
    ],
    [
      'an altered payload',
      async (p: TicketKey) => {
        const t = await mintTicket(p, { audience: 'web-2', subject: 'alice', grant });
        const [h, , s] = t.split('.');
        const now = Math.floor(Date.now() / 1000);
        return `Bearer ${h}.${b64({ aud: 'web-1', sub: 'alice', jti: 'x', exp: now + 30, kind: 'shell' })}.${s}`;
      },
      'signature',
    ],
    ['another host’s', async (p: TicketKey) => `Bearer ${await mintTicket(p, { audience: 'web-2', subject: 'alice', grant })}`, 'audience'],
    [
      'alg: none',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return `Bearer ${b64({ alg: 'none' })}.${b64({ aud: 'web-1', sub: 'alice', jti: 'n1', exp: now + 30, kind: 'shell' })}.`;
      },
      'algorithm',
    ],
    [
      'HS256 keyed with the public key',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        const secret = new TextEncoder().encode('-----BEGIN PUBLIC KEY-----');
        const t = await new jose.SignJWT({ kind: 'shell' })
          .setProtectedHeader({ alg: 'HS256' })
          .setAudience('web-1')
          .setSubject('alice')
          .setJti('h1')
          .setExpirationTime(now + 30)
          .sign(secret);
        return `Bearer ${t}`;
      },
      'algorithm',
    ],
    [
      'one living an hour',
      async (p: TicketKey) => {
        const now = Math.floor(Date.now() / 1000);
        const t = await new jose.SignJWT({ kind: 'shell' })
          .setProtectedHeader({ alg: 'EdDSA' })
          .setAudience('web-1')
          .setSubject('alice')
          .setJti('long')
          .setExpirationTime(now + 3600)
          .sign(p);
        return `Bearer ${t}`;
      },
      'lifetime',
    ],
    [
      'one without exp',
      async (p: TicketKey) => {
        const t = await new jose.SignJWT({ kind: 'shell' })
          .setProtectedHeader({ alg: 'EdDSA' })
          .setAudience('web-1')
          .setSubject('alice')
          .setJti('noexp')
          .sign(p);
        return `Bearer ${t}`;
      },
      'lifetime',
    ],
    [
      'an exec naming no container',
      async (p: TicketKey) => `Bearer ${await mintTicket(p, { audience: 'web-1', subject: 'alice', grant: { kind: 'exec' } })}`,
      'grant',
    ],
    [
      'an unknown kind',
      async (p: TicketKey) => {
        const now = Math.floor(Date.now() / 1000);
        return `Bearer ${await new jose.SignJWT({ kind: 'root' })
          .setProtectedHeader({ alg: 'EdDSA' })
          .setAudience('web-1')
          .setSubject('alice')
          .setJti('k')
          .setExpirationTime(now + 30)
          .sign(p)}`;
      },
      'grant',
    ],
  ] as const)('refuses %s', async (_name, make, reason) => {
    const v = new TicketVerifier(pub, 'web-1');
    const header = await make(priv);
    const r = await v.verify(header);
    expect(r).toEqual({ ok: false, reason });
    expect(REFUSAL_TEXT[reason]).toBeTruthy();
    expect(v.remembered).toBe(0);
  });

  it("refuses one signed by another console's key", async () => {
    const v = new TicketVerifier(pub, 'web-1');
    const t = await mintTicket(otherPriv, { audience: 'web-1', subject: 'alice', grant });
    expect(await v.verify(`Bearer ${t}`)).toEqual({ ok: false, reason: 'signature' });
  });

  it('refuses an expired ticket, and forgets used ids once they would have expired', async () => {
    let clock = Date.now() / 1000;
    const v = new TicketVerifier(pub, 'web-1', () => clock);
    const t = await mintTicket(priv, { audience: 'web-1', subject: 'alice', grant, lifetimeSeconds: 10 });
    expect((await v.verify(`Bearer ${t}`)).ok).toBe(true);
    expect(v.remembered).toBe(1);
    clock += 120;
    expect(await v.verify(`Bearer ${t}`)).toEqual({ ok: false, reason: 'expired' });
    const fresh = await mintTicket(priv, { audience: 'web-1', subject: 'alice', grant });
    // verified at the shifted clock: "now" is 120 s ahead of the signer's
    expect(await v.verify(`Bearer ${fresh}`)).toEqual({ ok: false, reason: 'expired' });
    clock = Date.now() / 1000;
    expect((await v.verify(`Bearer ${fresh}`)).ok).toBe(true);
    clock += 100;
    const later = await new TicketVerifier(pub, 'web-1', () => clock);
    expect(later.remembered).toBe(0);
  });

  it('caps the lifetime it mints at 60 s', async () => {
    const t = await mintTicket(priv, { audience: 'a', subject: 's', grant, lifetimeSeconds: 3600 });
    const { exp, iat } = jose.decodeJwt(t);
    expect(exp! - iat!).toBe(60);
  });

  it('says what is wrong with a key, without the key', async () => {
    await expect(importTicketPrivateKey('secret-material')).rejects.toThrow(/Ed25519 private key/);
    await expect(importTicketPublicKey('nope')).rejects.toThrow(/Ed25519 public key/);
  });
});

describe('control messages', () => {
  it.each([
    ['{"type":"resize","cols":120,"rows":40}', { type: 'resize', cols: 120, rows: 40 }],
    ['{"type":"ack","bytes":4096}', { type: 'ack', bytes: 4096 }],
  ])('reads %s', (text, value) => {
    expect(parseClientControl(text)).toEqual({ ok: true, value });
  });
  it.each([
    ['not json', /one JSON control message/],
    ['{"type":"resize","cols":0,"rows":40}', /cols/],
    ['{"type":"resize","cols":1.5,"rows":40}', /cols/],
    ['{"type":"exec","cmd":"rm -rf /"}', /bad control message/],
    ['[]', /bad control message/],
  ])('refuses %s', (text, error) => {
    const r = parseClientControl(text);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.error).toMatch(error);
  });
});
