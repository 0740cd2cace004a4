import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MetricSink } from '@vigil/core/render';
import { FIXTURES } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { paths } from '../../test/collectors.js';
import { osCollector, osVersion, parseOsRelease } from './os.js';
import { ParseError } from './read.js';

describe('os', () => {
  const rootfs = path.join(FIXTURES, 'this-host', 'rootfs');
  it('reads this host’s os-release into node_os_info and node_os_version', async () => {
    const text = readFileSync(path.join(rootfs, 'etc/os-release'), 'utf8');
    const os = parseOsRelease(text);
    const plain = (key: string) => /^[A-Z_]+=("?)(.*)\1$/m.exec(text.split('\n').find((l) => l.startsWith(`${key}=`)) ?? '')?.[2] ?? '';
    expect(os.PRETTY_NAME).toBe(plain('PRETTY_NAME'));
    expect(os.ID).toBe(plain('ID'));
    const sink = new MetricSink();
    await osCollector({ ...paths, rootfs }).update(sink, new AbortController().signal);
    const [info] = sink.families.get('node_os_info')!.values;
    expect(info).toMatchObject({
      value: 1,
      labels: { id: plain('ID'), name: plain('NAME'), version_id: plain('VERSION_ID'), build_id: '' },
    });
    expect(Object.keys(info!.labels)).toHaveLength(12);
    expect(sink.families.get('node_os_version')!.values[0]).toEqual({
      labels: { id: plain('ID'), id_like: plain('ID_LIKE'), name: plain('NAME') },
      value: Number(plain('VERSION_ID').split('.').slice(0, 2).join('.')),
    });
  });

  it('unquotes as os-release(5) says', () => {
    expect(parseOsRelease('# comment\nNAME="Ubuntu \\"LTS\\""\nID=ubuntu\nVARIANT=\'Server Edition\'\n\n')).toEqual({
      NAME: 'Ubuntu "LTS"',
      ID: 'ubuntu',
      VARIANT: 'Server Edition',
    });
  });

  it.each([
    ['12', 12],
    ['22.04', 22.04],
    ['22.04.3', 22.04],
    ['rolling', null],
    [undefined, null],
  ])('VERSION_ID %j is version %j', (v, want) => {
    expect(osVersion(v)).toBe(want);
  });

  it.each(['NAME "x"\n', 'name=x\n', 'NAME="unterminated\n'])('rejects %j', (text) => {
    expect(() => parseOsRelease(text)).toThrow(ParseError);
  });

  it('says where it looked when there is no os-release', async () => {
    await expect(osCollector({ ...paths, rootfs: '/nonexistent' }).update(new MetricSink(), new AbortController().signal)).rejects.toThrow(
      /no os-release: neither \/nonexistent\/etc\/os-release nor \/nonexistent\/usr\/lib\/os-release exists/,
    );
  });
});
