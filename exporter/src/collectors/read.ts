import { readFile } from 'node:fs/promises';

/** Reads a text file of procfs or sysfs in one go. */
export function readText(path: string, signal?: AbortSignal): Promise<string> {
  return readFile(path, { encoding: 'utf8', signal });
}

/** Thrown by parsers for input that is not what the kernel writes. */
export class ParseError extends Error {
  override name = 'ParseError';
  constructor(file: string, line: number, message: string) {
    super(`${file} line ${line}: ${message}`);
  }
}
