/**
 * How the built-in scenarios choose pages, reproducible in any language (the kernel oracle's
 * documented recipe, so a scenario built here is byte for byte the one the real ksmd was run on).
 * Page contents come from their names (src/pagespec.ts). Selections rank indices by
 * h64(parts…) = SHA-256(parts.join("|"))[0..8] read little-endian.
 */
import { createHash } from 'node:crypto';

export const ZERO = 'Z';

/** The ranking key of the recipe: the first 8 bytes of SHA-256 of the parts joined by "|". */
export function h64(...parts: Array<string | number | bigint>): bigint {
  return createHash('sha256').update(parts.join('|')).digest().readBigUInt64LE(0);
}

/** A fixed pseudo-random order of 0..n-1: indices sorted by h64(salt…, index). */
export function ranked(n: number, ...salt: Array<string | number>): number[] {
  const keys = Array.from({ length: n }, (_, i) => h64(...salt, i));
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
}
