/**
 * Masking for what must never be printed whole: passwords in URLs, webhook
 * URLs whose path is the credential (Slack, Mattermost, Discord), tokens.
 * Used wherever a configured value reaches a log, an error, a CLI listing or a
 * page.
 */

/**
 * A URL with its password (and, for `maskPath`, everything after the host)
 * replaced by `***`: `postgres://vigil:s3cret@db:5432/vigil` →
 * `postgres://vigil:***@db:5432/vigil`; with `maskPath`,
 * `https://hooks.slack.com/services/T0/B0/XYZ` → `https://hooks.slack.com/***`.
 * Query strings are masked too (they often carry tokens). A value that is not a
 * URL is masked whole, since it may be a secret mistyped.
 */
export function maskUrl(raw: string, { maskPath = false }: { maskPath?: boolean } = {}): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '***';
  }
  if (!u.host) return `${u.protocol}***`;
  const user = u.username ? `${decodeURIComponent(u.username)}${u.password ? ':***' : ''}@` : u.password ? ':***@' : '';
  const rest = maskPath ? (u.pathname !== '/' || u.search ? '/***' : '/') : `${u.pathname}${u.search ? '?***' : ''}`;
  return `${u.protocol}//${user}${u.host}${rest}`;
}

/** Masks every `scheme://user:password@` in free text (an error message from a driver, say). */
export function maskUrlsIn(text: string): string {
  // Linear: one pass over "//", then a bounded scan to the next '@', '/' or space.
  let out = '';
  let i = 0;
  for (;;) {
    const j = text.indexOf('://', i);
    if (j < 0) return out + text.slice(i);
    const start = j + 3;
    let k = start;
    let colon = -1;
    while (k < text.length && k - start < 512) {
      const c = text[k]!;
      if (c === '@' || c === '/' || c === ' ' || c === '\n' || c === '"' || c === "'") break;
      if (c === ':' && colon < 0) colon = k;
      k++;
    }
    if (text[k] === '@' && colon >= 0) {
      out += `${text.slice(i, colon + 1)}***@`;
      i = k + 1;
    } else {
      out += text.slice(i, start);
      i = start;
    }
  }
}
