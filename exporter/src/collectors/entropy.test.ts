import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, paths, series } from '../../test/collectors.js';
import { entropyCollector } from './entropy.js';

describe('entropy', () => {
  it('reads this host', async () => {
    const got = await series(entropyCollector(paths));
    expect(got.get('node_entropy_available_bits')?.value).toBe(Number(fixture('sys/kernel/random/entropy_avail')));
    expect(got.get('node_entropy_pool_size_bits')?.value).toBe(Number(fixture('sys/kernel/random/poolsize')));
  });

  it('says which file is malformed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-entropy-'));
    try {
      mkdirSync(path.join(dir, 'sys/kernel/random'), { recursive: true });
      writeFileSync(path.join(dir, 'sys/kernel/random/entropy_avail'), 'plenty\n');
      writeFileSync(path.join(dir, 'sys/kernel/random/poolsize'), '256\n');
      await expect(series(entropyCollector({ ...paths, proc: dir }))).rejects.toThrow(/entropy_avail line 1: expected a whole number/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
