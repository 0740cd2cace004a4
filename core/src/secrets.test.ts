import { describe, expect, it } from 'vitest';
import { maskUrl, maskUrlsIn } from './secrets.js';

describe('maskUrl', () => {
  it.each([
    ['postgres://vigil:s3cret@db:5432/vigil', 'postgres://vigil:***@db:5432/vigil'],
    ['postgres://vigil@db/vigil', 'postgres://vigil@db/vigil'],
    ['http://:pw@h/x', 'http://:***@h/x'],
    ['https://h/path?token=abc', 'https://h/path?***'],
    ['not a url', '***'],
    ['mailto:x@y', 'mailto:***'],
  ])('%s → %s', (raw, shown) => expect(maskUrl(raw)).toBe(shown));

  it('hides the path too when it is the credential', () => {
    expect(maskUrl('https://hooks.slack.com/services/T/B/secret', { maskPath: true })).toBe('https://hooks.slack.com/***');
    expect(maskUrl('https://hooks.lan/', { maskPath: true })).toBe('https://hooks.lan/');
  });
});

describe('maskUrlsIn', () => {
  it('masks passwords in free text, leaving the rest', () => {
    expect(maskUrlsIn('connect to postgres://u:pw@db:5432/x failed; see http://docs/x')).toBe(
      'connect to postgres://u:***@db:5432/x failed; see http://docs/x',
    );
    expect(maskUrlsIn('no urls here')).toBe('no urls here');
    expect(maskUrlsIn('a://b@c')).toBe('a://b@c');
  });

  it('stays linear on a long run without an @', () => {
    expect(maskUrlsIn(`x://${'a:'.repeat(10_000)}`)).toHaveLength(4 + 20_000);
  });
});
