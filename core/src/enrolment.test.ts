import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import {
  ENROL_TYPES,
  EnrolError,
  hostIdentityOf,
  newHostIdentity,
  parseLabelList,
  signEnrolAnswer,
  signHostMessage,
  verifyEnrolAnswer,
  verifyHostMessage,
} from './enrolment.js';
import { generateTicketKeys, importTicketPrivateKey, importTicketPublicKey } from './pty.js';

describe('signed host messages', () => {
  it('verifies a message signed by the key in its header, with its thumbprint, jti and expiry', async () => {
    const id = await newHostIdentity();
    const jws = await signHostMessage(id, ENROL_TYPES.enrol, { name: 'pi-1' });
    const m = await verifyHostMessage(jws, ENROL_TYPES.enrol);
    expect(m.thumbprint).toBe(id.thumbprint);
    expect(m.thumbprint).toBe(await jose.calculateJwkThumbprint(id.publicJwk));
    expect(m.claims.name).toBe('pi-1');
    expect(m.jwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: id.publicJwk.x });
    expect(m.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.expiresAt.getTime()).toBeGreaterThan(Date.now() + 100_000);
    // Kept as the private JWK: the same identity back.
    expect((await hostIdentityOf(id.privateJwk)).thumbprint).toBe(id.thumbprint);
    // Each message has its own jti.
    expect((await verifyHostMessage(await signHostMessage(id, ENROL_TYPES.enrol, {}), ENROL_TYPES.enrol)).jti).not.toBe(m.jti);
  });

  it('refuses another typ, another key, a forged signature, a long or expired life, and no EdDSA', async () => {
    const id = await newHostIdentity();
    const other = await newHostIdentity();
    const jws = await signHostMessage(id, ENROL_TYPES.enrol, {});
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e: EnrolError) => `${e.code}: ${e.message}`,
      );
    expect(await code(verifyHostMessage(jws, ENROL_TYPES.connect))).toMatch(/^malformed: expected a vigil-connect\+jwt message/);
    expect(await code(verifyHostMessage(jws, ENROL_TYPES.enrol, other.thumbprint))).toMatch(
      /^key: signed with a key that is not this host's/,
    );
    // The header names another key than the one that signed.
    const [, payload, sig] = jws.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: ENROL_TYPES.enrol, jwk: other.publicJwk })).toString('base64url');
    expect(await code(verifyHostMessage(`${header}.${payload}.${sig}`, ENROL_TYPES.enrol))).toMatch(/^signature: /);
    expect(await code(verifyHostMessage('not.a.jws', ENROL_TYPES.enrol))).toMatch(/^malformed: not a compact JWS/);
    expect(await code(verifyHostMessage('x'.repeat(20_000), ENROL_TYPES.enrol))).toMatch(/^malformed: .*16 KiB/);
    // A private key in the header, or HS256: refused before anything is verified.
    const withPrivate = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: ENROL_TYPES.enrol, jwk: id.privateJwk })).toString('base64url');
    expect(await code(verifyHostMessage(`${withPrivate}.${payload}.${sig}`, ENROL_TYPES.enrol))).toMatch(
      /^malformed: .*Ed25519 public key/,
    );
    const hs = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: ENROL_TYPES.enrol }).sign(new Uint8Array(32));
    expect(await code(verifyHostMessage(hs, ENROL_TYPES.enrol))).toMatch(/^malformed: /);
    const key = await jose.importJWK(id.privateJwk, 'EdDSA');
    const signed = (iat: number, exp: number) =>
      new jose.SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA', typ: ENROL_TYPES.enrol, jwk: id.publicJwk })
        .setJti('j')
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);
    const now = Math.floor(Date.now() / 1000);
    expect(await code(verifyHostMessage(await signed(now - 600, now - 300), ENROL_TYPES.enrol))).toMatch(/^expired: .*clock/);
    expect(await code(verifyHostMessage(await signed(now, now + 3600), ENROL_TYPES.enrol))).toMatch(
      /^expired: a signed request lives at most 120 s/,
    );
    expect(await code(verifyHostMessage(await signed(now + 3000, now + 3060), ENROL_TYPES.enrol))).toMatch(/^(expired|malformed): /);
    const noJti = await new jose.SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: ENROL_TYPES.enrol, jwk: id.publicJwk })
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(key);
    expect(await code(verifyHostMessage(noJti, ENROL_TYPES.enrol))).toMatch(/^malformed: .*jti/);
    await expect(hostIdentityOf({ kty: 'RSA' })).rejects.toThrow(/not an Ed25519 private key/);
  });
});

describe("the console's signed answer", () => {
  it('verifies with the pinned key for this host only', async () => {
    const consoleKeys = await generateTicketKeys();
    const other = await generateTicketKeys();
    const id = await newHostIdentity();
    const answer = { target_id: 7, name: 'pi-1', credential: 'vgs_x', pending: false, created: true };
    const jws = await signEnrolAnswer(await importTicketPrivateKey(consoleKeys.privateKeyPem), id.thumbprint, answer);
    expect(await verifyEnrolAnswer(await importTicketPublicKey(consoleKeys.publicKeyPem), id.thumbprint, jws)).toMatchObject(answer);
    await expect(verifyEnrolAnswer(await importTicketPublicKey(other.publicKeyPem), id.thumbprint, jws)).rejects.toThrow(
      /not signed by the pinned key/,
    );
    // Addressed to another host's key: refused too (an answer cannot be replayed to another host).
    const elsewhere = await newHostIdentity();
    await expect(verifyEnrolAnswer(await importTicketPublicKey(consoleKeys.publicKeyPem), elsewhere.thumbprint, jws)).rejects.toThrow(
      EnrolError,
    );
  });
});

describe('parseLabelList', () => {
  it('reads name=value pairs split on commas, and says which part is not one', () => {
    expect(parseLabelList('rack=a, role=db,,env=a=b')).toEqual({ rack: 'a', role: 'db', env: 'a=b' });
    expect(parseLabelList('')).toEqual({});
    expect(() => parseLabelList('rack=a,oops')).toThrow(/"oops" is not name=value/);
    expect(() => parseLabelList('=x')).toThrow(/not name=value/);
  });
});
