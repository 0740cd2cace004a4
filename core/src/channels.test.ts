import { describe, expect, it } from 'vitest';
import { maskChannelUrl, postToChannel, testMessage } from './channels.js';
import { closedPort, httpServer } from './testing/index.js';

describe('postToChannel', () => {
  it("posts JSON to a webhook, and to an Alertmanager's alerts API", async () => {
    const got: { url: string; body: string; type: string | undefined }[] = [];
    const s = await httpServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        got.push({ url: req.url!, body, type: req.headers['content-type'] });
        res.end('ok');
      });
    });
    try {
      await postToChannel({ kind: 'webhook', url: `${new URL(s.url).origin}/hook/secret` }, { a: 1 });
      await postToChannel({ kind: 'alertmanager', url: `${new URL(s.url).origin}/` }, [{ labels: {} }]);
      expect(got).toEqual([
        { url: '/hook/secret', body: '{"a":1}', type: 'application/json' },
        { url: '/api/v2/alerts', body: '[{"labels":{}}]', type: 'application/json' },
      ]);
    } finally {
      await s.close();
    }
  });

  it("says what went wrong without the webhook's secret path", async () => {
    const s = await httpServer((_, res) => {
      res.statusCode = 404;
      res.end('no such hook\n');
    });
    try {
      await expect(postToChannel({ kind: 'slack', url: `${new URL(s.url).origin}/services/T0/B0/SECRET` }, {})).rejects.toThrow(
        new RegExp(`^${new URL(s.url).origin}/\\*\\*\\*: HTTP 404: no such hook$`),
      );
      const port = await closedPort();
      const refused = postToChannel({ kind: 'webhook', url: `http://127.0.0.1:${port}/SECRET` }, {});
      await expect(refused).rejects.toThrow(`http://127.0.0.1:${port}/***: connection refused`);
      await expect(postToChannel({ kind: 'webhook', url: 'not a url' }, {})).rejects.toThrow(/^\*\*\*: not a valid URL$/);
    } finally {
      await s.close();
    }
  });

  it('gives up on a channel that does not answer in time', async () => {
    const s = await httpServer(() => {});
    try {
      await expect(postToChannel({ kind: 'webhook', url: `${new URL(s.url).origin}/x` }, {}, { timeoutMs: 200 })).rejects.toThrow(
        /no answer within 0.2 s/,
      );
    } finally {
      await s.close();
    }
  });
});

describe('testMessage', () => {
  it('says who sent it, in the shape each kind reads', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    expect(testMessage('slack', 'ada', now)).toEqual({ text: expect.stringContaining('sent by ada') });
    expect(testMessage('webhook', 'ada', now)).toMatchObject({ version: 1, event: { id: 0, message: expect.stringContaining('ada') } });
    expect(testMessage('alertmanager', 'ada', now)).toEqual([
      expect.objectContaining({ labels: { alertname: 'VigilTest', severity: 'none' }, endsAt: '2026-11-25T12:01:00.000Z' }),
    ]);
  });
  it('masks the secret part of URLs', () => {
    expect(maskChannelUrl('slack', 'https://hooks.slack.com/services/T/B/X')).toBe('https://hooks.slack.com/***');
    expect(maskChannelUrl('alertmanager', 'http://am:9093')).toBe('http://am:9093/');
  });
});
