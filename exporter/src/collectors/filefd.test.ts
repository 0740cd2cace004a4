import { describe, expect, it } from 'vitest';
import { fixture, paths, series } from '../../test/collectors.js';
import { filefdCollector, parseFileNr } from './filefd.js';
import { ParseError } from './read.js';

describe('filefd', () => {
  it('reads this host: allocated and maximum', async () => {
    const [allocated, , maximum] = fixture('sys/fs/file-nr').trim().split(/\s+/).map(Number);
    expect(parseFileNr(fixture('sys/fs/file-nr'))).toEqual({ allocated, maximum });
    const got = await series(filefdCollector(paths));
    expect(got.get('node_filefd_allocated')).toEqual({ type: 'gauge', value: allocated });
    expect(got.get('node_filefd_maximum')).toEqual({ type: 'gauge', value: maximum });
  });

  it.each(['', '4212 0', '4212 0 x', '1 2 3 4'])('rejects %j', (text) => {
    expect(() => parseFileNr(text)).toThrow(ParseError);
  });
});
