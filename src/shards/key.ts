/**
 * Which shard a page belongs to: a function of its contents alone, so equal pages always land in
 * the same shard (the one thing shards need to never interact). Which function only moves the
 * balance between shards, never a counter.
 *
 * Interim key, until the fingerprint hash (src/fingerprint/hash.ts) is in: an FNV-style mix of 64
 * words spread over the page plus its last 8 bytes (pages that differ only at their end still
 * spread). Cheap, since it runs in the reader's thread before the pages go to their shards.
 */
import { PAGE_SIZE } from '../estimate/source.js';

const WORDS = PAGE_SIZE / 4;
const STRIDE = 16; // words: 64 samples per page

/** The shard (0 ≤ shard < k) of every page in `chunk` (whole pages). */
export function shardsOfPages(chunk: Uint8Array, k: number): Uint16Array {
  const pages = chunk.length / PAGE_SIZE;
  const out = new Uint16Array(pages);
  if (k === 1) return out;
  const aligned = chunk.byteOffset % 4 === 0 ? chunk : chunk.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >>> 2);
  for (let p = 0; p < pages; p++) {
    const base = p * WORDS;
    let h = 0x811c9dc5;
    for (let w = 0; w < WORDS; w += STRIDE) h = Math.imul(h ^ words[base + w], 0x01000193);
    h = Math.imul(h ^ words[base + WORDS - 2], 0x01000193);
    h = Math.imul(h ^ words[base + WORDS - 1], 0x01000193);
    h ^= h >>> 15;
    out[p] = (h >>> 0) % k;
  }
  return out;
}
