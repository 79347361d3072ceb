/**
 * How the built-in scenarios choose pages, reproducible in any language (the kernel oracle's
 * documented recipe, so a scenario built here is byte for byte the one the real ksmd was run on).
 * Page contents come from their names (src/pagespec.ts). Selections rank indices by
 * h64(parts…) = SHA-256(parts.join("|"))[0..8] read little-endian.
 */
import * as crypto from 'node:crypto';

export const ZERO = 'Z';

/** crypto.hash (Node 20.12+; newer than the @types/node the project pins). */
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

/** SHA-256 of a string, in one call where Node has one. */
const sha256 = (text: string): Buffer => (oneShot ? oneShot('sha256', text, 'buffer') : crypto.createHash('sha256').update(text).digest());

/** The ranking key of the recipe: the first 8 bytes of SHA-256 of the parts joined by "|". */
export function h64(...parts: Array<string | number | bigint>): bigint {
  return sha256(parts.join('|')).readBigUInt64LE(0);
}

/** A fixed pseudo-random order of 0..n-1: indices sorted by h64(salt…, index), ties by index. */
export function ranked(n: number, ...salt: Array<string | number>): number[] {
  // The 64-bit keys as two 32-bit halves: compared as numbers, not BigInts (several times faster for large n).
  const high = new Uint32Array(n);
  const low = new Uint32Array(n);
  const prefix = salt.length ? `${salt.join('|')}|` : '';
  for (let i = 0; i < n; i++) {
    const digest = sha256(`${prefix}${i}`);
    low[i] = digest.readUInt32LE(0);
    high[i] = digest.readUInt32LE(4);
  }
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => high[a] - high[b] || low[a] - low[b] || a - b);
}

