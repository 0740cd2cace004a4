import type { Readable, Writable } from 'node:stream';

/**
 * Reads a password the way `passwd` does: on a terminal, prompted on stderr
 * with nothing echoed, twice (they must match); from a pipe, the first line of
 * stdin (`echo "$PW" | vigil users create …`, so it never sits in argv, where
 * `ps` shows it to every user of the host).
 * @throws Error when the two entries differ, input ends before a line, or Ctrl-C is pressed
 */
export async function readPassword(
  prompt: string,
  input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown } = process.stdin,
  output: Writable = process.stderr,
): Promise<string> {
  if (!input.isTTY || !input.setRawMode) return firstLine(input);
  const first = await readHidden(`${prompt}: `, input, output);
  const again = await readHidden('again: ', input, output);
  if (first !== again) throw new Error('the two passwords differ; nothing was changed');
  return first;
}

/** The first line of a stream (without its line ending). */
async function firstLine(input: Readable): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += chunk;
    const nl = text.indexOf('\n');
    if (nl >= 0) {
      input.destroy();
      return text.slice(0, nl).replace(/\r$/, '');
    }
    if (text.length > 4096) break;
  }
  if (text === '') throw new Error('no password on stdin: pipe one line in, or run this on a terminal to be asked');
  return text.replace(/\r$/, '');
}

function readHidden(prompt: string, input: Readable & { setRawMode?: (raw: boolean) => unknown }, output: Writable): Promise<string> {
  output.write(prompt);
  input.setRawMode!(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode!(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}
