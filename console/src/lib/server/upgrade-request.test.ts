import { describe, expect, it } from 'vitest';
import { clientAddressOf, cookieOf } from './upgrade-request';

const req = (headers: Record<string, string>, remoteAddress = '10.0.0.9') => ({ headers, socket: { remoteAddress } }) as never;

describe('cookieOf', () => {
  it('finds one cookie among several, decoded', () => {
    expect(cookieOf(req({ cookie: 'a=1; vigil_session=abc%2Bdef; b=2' }), 'vigil_session')).toBe('abc+def');
  });
  it('is null without the header or the cookie', () => {
    expect(cookieOf(req({}), 'vigil_session')).toBeNull();
    expect(cookieOf(req({ cookie: 'vigil_sessionx=1; other=2' }), 'vigil_session')).toBeNull();
  });
  it('never throws on a malformed escape', () => {
    expect(cookieOf(req({ cookie: 'vigil_session=%E0%A4%A' }), 'vigil_session')).toBe('%E0%A4%A');
  });
});

describe('clientAddressOf', () => {
  it('is the peer without proxies, whatever X-Forwarded-For says', () => {
    expect(clientAddressOf(req({ 'x-forwarded-for': '203.0.113.5' }), 0)).toBe('10.0.0.9');
  });
  it('takes the address the outermost trusted proxy recorded', () => {
    expect(clientAddressOf(req({ 'x-forwarded-for': '198.51.100.1, 203.0.113.5, 10.0.0.2' }), 2)).toBe('203.0.113.5');
    expect(clientAddressOf(req({ 'x-forwarded-for': '203.0.113.5' }), 1)).toBe('203.0.113.5');
  });
  it('falls back to the peer when the header has fewer hops than configured', () => {
    expect(clientAddressOf(req({ 'x-forwarded-for': '203.0.113.5' }), 3)).toBe('10.0.0.9');
    expect(clientAddressOf(req({}), 1)).toBe('10.0.0.9');
  });
});
