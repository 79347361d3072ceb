/**
 * Which shard a page belongs to: a function of its contents alone, so equal pages always land in
 * the same shard (the one thing shards need to never interact): the fingerprint record's shardOf
 * (src/fingerprint/hash.ts), the same on every machine, so `estimate --threads` and the map/reduce
 * commands deal pages alike. Which function only moves the balance between shards, never a counter.
 */
import { FP_RECORD_SIZE, fingerprintPages, shardOf } from '../fingerprint/hash.js';

/** The shard (0 ≤ shard < k) of every record of `records`: shardOf's, read with one view (shardOf makes one per call). */
export function shardsOfRecords(records: Uint8Array, k: number): Uint16Array {
  const out = new Uint16Array(records.length / FP_RECORD_SIZE);
  if (k === 1 || out.length === 0) return out;
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const at = SHARD_BITS_OFFSET;
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * FP_RECORD_SIZE + at, true) % k;
  return out;
}

/** Where shardOf's 32 bits sit in a record, found once from shardOf itself (so the two never disagree). */
const SHARD_BITS_OFFSET = ((): number => {
  const record = new Uint8Array(FP_RECORD_SIZE);
  for (let at = 0; at + 4 <= FP_RECORD_SIZE; at += 4) {
    record.fill(0);
    new DataView(record.buffer).setUint32(at, 12345, true);
    if (shardOf(record, 1_000_003) === 12345) return at;
  }
  throw new Error('shardOf reads no aligned 32 bits of the record');
})();

/** The shard of each page of `chunk` (from its fingerprint record). */
export function shardsOfPages(chunk: Uint8Array, k: number): Uint16Array {
  return shardsOfRecords(fingerprintPages(chunk), k);
}
