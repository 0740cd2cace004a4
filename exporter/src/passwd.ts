import { readFileSync } from 'node:fs';

/** One /etc/passwd entry. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** Parses /etc/passwd text (name:x:uid:gid:gecos:home:shell per line); malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || f[2] === '' || f[3] === '') continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]!, shell: f[6]!.trim() });
  }
  return out;
}

/** Reads a user from /etc/passwd (under `rootfs`) by name or by uid. */
export function lookupUser(who: string | number, passwdFile = '/etc/passwd'): PasswdEntry | undefined {
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch {
    return undefined;
  }
  return parsePasswd(text).find((e) => (typeof who === 'number' ? e.uid === who : e.name === who));
}
