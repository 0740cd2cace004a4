import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readPassword } from './password.js';

/** A stream that says it is a terminal, recording raw-mode switches. */
function fakeTty() {
  const input = Object.assign(new PassThrough(), { isTTY: true, modes: [] as boolean[] });
  const tty = Object.assign(input, {
    setRawMode(raw: boolean) {
      input.modes.push(raw);
      return input;
    },
  });
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d) => (shown += d));
  return { tty, output, shown: () => shown };
}

describe('readPassword', () => {
  it('takes the first line of a pipe, without its line ending', async () => {
    const input = new PassThrough();
    input.end('s3cret-password\r\nsecond line\n');
    expect(await readPassword('password', input)).toBe('s3cret-password');
  });

  it('says what to do when the pipe is empty', async () => {
    const input = new PassThrough();
    input.end();
    await expect(readPassword('password', input)).rejects.toThrow(/no password on stdin/);
  });

  it('asks twice on a terminal, echoing nothing, honouring backspace, and leaves raw mode', async () => {
    const { tty, output, shown } = fakeTty();
    const read = readPassword('password for ada', tty, output);
    tty.write('hunter22x\u007f\r');
    await new Promise((r) => setImmediate(r));
    tty.write('hunter22\r');
    expect(await read).toBe('hunter22');
    expect(shown()).toBe('password for ada: \nagain: \n');
    expect(tty.modes).toEqual([true, false, true, false]);
  });

  it('refuses two different entries, and Ctrl-C', async () => {
    const a = fakeTty();
    const differ = readPassword('pw', a.tty, a.output);
    a.tty.write('one-password\r');
    await new Promise((r) => setImmediate(r));
    a.tty.write('two-password\r');
    await expect(differ).rejects.toThrow(/differ/);
    const b = fakeTty();
    const cancelled = readPassword('pw', b.tty, b.output);
    b.tty.write('abc\u0003');
    await expect(cancelled).rejects.toThrow(/cancelled/);
    expect(b.tty.modes.at(-1)).toBe(false);
  });
});
