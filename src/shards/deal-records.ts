/**
 * The fingerprint engine's inputs dealt to their shards as records (24 bytes a page, never the
 * pages): every source read once, in order, fingerprinted on the hashing threads (hash-ring.ts),
 * and each chunk's records split by shard into batches of one space's pages with their
 * page indices, in address order within each space, as dealPages deals bytes to the page engine.
 * Which shard: balance.ts.
 */
import type { ImageSource } from '../estimate/source.js';
import { FP_RECORD_SIZE } from '../fingerprint/hash.js';
import { fingerprintSources, type HashJobRunner } from './hash-ring.js';
import { ContentDeal } from './balance.js';

/** Records of one space's pages for one shard: page pages[i] has the record at i × FP_RECORD_SIZE. */
export interface RecordBatch { space: number; pages: Uint32Array; records: Uint8Array }

const RECORD_WORDS = FP_RECORD_SIZE / 4;

/** Reads every source once, fingerprinting on `runners`, and hands each shard its records. */
export function dealRecords(sources: readonly ImageSource[], shards: number, runners: readonly HashJobRunner[], emit: (shard: number, batch: RecordBatch) => void): void {
  const deal = new ContentDeal(shards);
  fingerprintSources(sources, runners, (records, space, first) => splitRecords(records, space, first, deal, emit));
}

/** The records of pages first.. of `space`, split by shard and copied out (the ring reuses its slots). */
function splitRecords(records: Uint8Array, space: number, first: number, deal: ContentDeal, emit: (shard: number, batch: RecordBatch) => void): void {
  const count = records.length / FP_RECORD_SIZE;
  const shards = deal.shards;
  const keys = deal.deal(records);
  const sizes = new Uint32Array(shards);
  for (let i = 0; i < count; i++) sizes[keys[i]]++;
  const batches = Array.from(sizes, (n) => ({ space, pages: new Uint32Array(n), records: new Uint8Array(n * FP_RECORD_SIZE) }));
  const words = batches.map((b) => new Uint32Array(b.records.buffer));
  const from = new Uint32Array(records.buffer, records.byteOffset, count * RECORD_WORDS);
  const filled = new Uint32Array(shards);
  for (let i = 0; i < count; i++) {
    const s = keys[i];
    const j = filled[s]++;
    batches[s].pages[j] = first + i;
    for (let w = 0; w < RECORD_WORDS; w++) words[s][j * RECORD_WORDS + w] = from[i * RECORD_WORDS + w];
  }
  batches.forEach((batch, s) => { if (batch.pages.length > 0) emit(s, batch); });
}
