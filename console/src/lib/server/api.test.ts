import { describe, expect, it } from 'vitest';
import { ApiError, JSON_BODY_LIMIT_BYTES, jsonBody } from './api';

/** A request event with a body streamed in `chunks` of `chunkBytes`, counting how many chunks were pulled. */
function streamed(chunks: number, chunkBytes: number, headers: Record<string, string> = {}) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks) return controller.close();
      pulled++;
      controller.enqueue(new Uint8Array(chunkBytes).fill(0x20));
    },
  });
  const request = new Request('http://localhost/api/v1/targets', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    duplex: 'half',
  } as RequestInit);
  return { event: { request } as never, pulled: () => pulled };
}

describe('jsonBody', () => {
  it('reads a JSON body', async () => {
    const request = new Request('http://localhost/', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(await jsonBody({ request } as never)).toEqual({ a: 1 });
  });

  it('refuses a body declared over 1 MiB with 413 before reading any of it', async () => {
    const { event, pulled } = streamed(20, 512 * 1024, { 'content-length': String(10 * 1024 * 1024) });
    const err = await jsonBody(event).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 413, code: 'too_large' });
    expect(pulled()).toBeLessThanOrEqual(1); // the stream's first pull may be eager; nothing more is read
  });

  it('stops reading a chunked body as soon as it passes 1 MiB', async () => {
    const { event, pulled } = streamed(20, 256 * 1024);
    await expect(jsonBody(event)).rejects.toMatchObject({ status: 413 });
    expect(pulled()).toBeLessThan(20);
    expect(pulled() * 256 * 1024).toBeLessThanOrEqual(JSON_BODY_LIMIT_BYTES + 2 * 256 * 1024);
  });

  it('says what is wrong with a body that is not JSON, or not sent as JSON', async () => {
    const bad = new Request('http://localhost/', { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
    await expect(jsonBody({ request: bad } as never)).rejects.toMatchObject({ status: 400, message: 'the body is not valid JSON' });
    const text = new Request('http://localhost/', { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } });
    await expect(jsonBody({ request: text } as never)).rejects.toMatchObject({ status: 400, message: /Content-Type: application\/json/ });
  });
});
