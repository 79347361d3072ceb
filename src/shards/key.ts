/**
 * Which shard a page belongs to: a function of its contents alone, so equal pages always land in
 * the same shard (the one thing shards need to never interact): the fingerprint record's shardOf
 * (src/fingerprint/hash.ts), the same on every machine, so `estimate --threads` and the map/reduce
 * commands deal pages alike. Which function only moves the balance between shards, never a counter.
 */
import { FP_RECORD_SIZE, fingerprintPages, shardOf } from '../fingerprint/hash.js';

/** The shard (0 ≤ shard < k) of every record of `records`. */
export function shardsOfRecords(records: Uint8Array, k: number): Uint16Array {
  const out = new Uint16Array(records.length / FP_RECORD_SIZE);
  if (k > 1) for (let i = 0; i < out.length; i++) out[i] = shardOf(records, k, i);
  return out;
}

/** The fingerprint records of the pages of `chunk`, and the shard of each page. */
export function shardsOfPages(chunk: Uint8Array, k: number): { records: Uint8Array; shards: Uint16Array } {
  const records = fingerprintPages(chunk);
  return { records, shards: shardsOfRecords(records, k) };
}
