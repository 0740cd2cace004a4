import { describe, expect, it } from 'vitest';
import { consoleFrame, decodeResponse, encodeResponse, parseFrame, relayedPath, websocketUrl } from './connect.js';

describe('connect-out frames', () => {
  it('reads the frames each side sends and drops anything else', () => {
    expect(
      parseFrame(
        consoleFrame,
        JSON.stringify({ type: 'request', id: 1, method: 'GET', path: '/metrics', headers: { accept: 'text/plain' } }),
      ),
    ).toEqual({
      type: 'request',
      id: 1,
      method: 'GET',
      path: '/metrics',
      headers: { accept: 'text/plain' },
    });
    expect(parseFrame(consoleFrame, JSON.stringify({ type: 'pty', sid: 'a'.repeat(24) }))).toEqual({ type: 'pty', sid: 'a'.repeat(24) });
    expect(parseFrame(consoleFrame, JSON.stringify({ type: 'pty', sid: 'short' }))).toBeNull();
    expect(parseFrame(consoleFrame, JSON.stringify({ type: 'request', id: 1, method: 'POST', path: '/', headers: {} }))).toBeNull();
    expect(parseFrame(consoleFrame, '{not json')).toBeNull();
    // A response: its header as JSON, its body as bytes, in one binary frame.
    const body = Buffer.from('node_load1 0.5\n# "quotes" and \\ stay bytes\n');
    const frame = encodeResponse({ id: 2, status: 200, headers: { 'content-type': 'text/plain' } }, body);
    const back = decodeResponse(frame);
    expect(back?.header).toEqual({ id: 2, status: 200, headers: { 'content-type': 'text/plain' } });
    expect(back?.body.equals(body)).toBe(true);
    expect(decodeResponse(encodeResponse({ id: 3, status: 204, headers: {} }, Buffer.alloc(0)))?.body.length).toBe(0);
    expect(decodeResponse(Buffer.from([0, 0]))).toBeNull();
    expect(decodeResponse(Buffer.from([0, 0, 0, 99, 1]))).toBeNull();
    expect(decodeResponse(Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x}')]))).toBeNull();
    expect(decodeResponse(encodeResponse({ id: 2, status: 999, headers: {} }, body))).toBeNull();
  });

  it('relays only the exporter paths the console may ask for', () => {
    expect(relayedPath('/metrics')).toBe(true);
    expect(relayedPath('/probe?target=x&module=http_2xx')).toBe(true);
    expect(relayedPath('/pty')).toBe(false);
    expect(relayedPath('/metrics/../pty')).toBe(false);
  });

  it("makes the console's WebSocket URL, wss behind https, under a path prefix", () => {
    expect(websocketUrl('http://127.0.0.1:3000', '/api/v1/connect')).toBe('ws://127.0.0.1:3000/api/v1/connect');
    expect(websocketUrl('https://vigil.example.com/base/', '/api/v1/connect')).toBe('wss://vigil.example.com/base/api/v1/connect');
    expect(websocketUrl('https://vigil.example.com?x=1', '/api/v1/connect')).toBe('wss://vigil.example.com/api/v1/connect');
  });
});
