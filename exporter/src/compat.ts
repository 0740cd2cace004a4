// What the exporter's dependencies expect of Node.js 20 and Node.js 18.20
// (Debian 12's and Raspberry Pi OS's `nodejs`) lacks, added only where missing,
// so that one bundle runs on both. Imported first by main.ts; on Node.js 20 and
// later it changes nothing.
//   - globalThis.crypto: jose verifies terminal tickets with WebCrypto, global
//     from Node.js 19 (in 18 it is node:crypto's `webcrypto`, not a global).
//   - Array.prototype.toReversed (ES2023, Node.js 20): @koa/router's matching.
import { webcrypto } from 'node:crypto';

/** What was added to this runtime: empty on Node.js 20 and later. */
export const ADDED: string[] = [];

if (globalThis.crypto === undefined) {
  Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true, enumerable: false, writable: true });
  ADDED.push('globalThis.crypto');
}
if (typeof Array.prototype.toReversed !== 'function') {
  Object.defineProperty(Array.prototype, 'toReversed', {
    value: function toReversed<T>(this: T[]): T[] {
      return Array.prototype.slice.call(this).reverse();
    },
    configurable: true,
    writable: true,
  });
  ADDED.push('Array.prototype.toReversed');
}
