/**
 * What the fingerprints alone say before any scan: pages, zero pages, and distinct contents across
 * all images. Pages beyond the first of each content are what KSM could save at most (its
 * zero-page rules aside); the estimate says how much it does save, and when.
 */
import { FP_RECORD_SIZE } from '../../src/fingerprint/hash.js';
import { FP_FLAGS, FP_ZERO } from '../../src/generated/core-abi.js';
import type { FingerprintedImage } from './fingerprint-pool.js';

export interface ContentStats { pages: number; zeroPages: number; distinct: number; duplicates: number }

export function contentStats(images: readonly FingerprintedImage[]): ContentStats {
  const seen = new Set<string>();
  let pages = 0;
  let zeroPages = 0;
  for (const { records } of images) {
    const words = new Uint32Array(records.buffer, records.byteOffset, records.length / 4);
    const perRecord = FP_RECORD_SIZE / 4;
    for (let at = 0; at < words.length; at += perRecord) {
      pages++;
      if (words[at + FP_FLAGS / 4] & FP_ZERO) zeroPages++;
      // The 128-bit fingerprint (the record's first four words) as the key.
      seen.add(`${words[at]},${words[at + 1]},${words[at + 2]},${words[at + 3]}`);
    }
  }
  return { pages, zeroPages, distinct: seen.size, duplicates: pages - seen.size };
}
