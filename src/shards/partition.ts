/**
 * The inputs' pages dealt to their shards while they are read: every source in order, each chunk's
 * pages grouped by shard (key.ts) into batches of one space's pages with their page indices.
 * Inputs that tie pages of different contents together cannot be split: a fork shares frames with
 * its parent, and a huge page splits for any of its subpages (its zero-filled subpages then leave
 * ksmd's view, whichever shard they are in).
 */
import { CHUNK_BYTES, PAGE_SIZE, type ImageSource } from '../estimate/source.js';
import { FP_RECORD_SIZE } from '../fingerprint/hash.js';
import { shardsOfPages } from './key.js';

/**
 * Pages of one space for one shard: `data` holds the page at index pages[i] at i × PAGE_SIZE, and
 * `records` its fingerprint record at i × FP_RECORD_SIZE (for an engine of records).
 */
export interface PageBatch { space: number; pages: Uint32Array; data: Uint8Array; records: Uint8Array }

/** Why these inputs must run as one shard, or undefined if they can be split. */
export function unsplittable(sources: readonly ImageSource[]): string | undefined {
  const fork = sources.find((s) => s.forkOf);
  if (fork) return `${fork.name} shares frames with ${fork.forkOf!.name} after a fork`;
  const huge = sources.find((s) => (s.hugeSpans?.length ?? 0) > 0);
  if (huge) return `${huge.name} has transparent huge pages (a merge splits a huge page for all its subpages)`;
  return undefined;
}

/** Reads every source once and hands each shard its pages, in address order within each space. */
export function dealPages(sources: readonly ImageSource[], shards: number, emit: (shard: number, batch: PageBatch) => void): void {
  sources.forEach((source, space) => {
    let next = 0;
    source.read((chunk, page = next) => {
      for (let at = 0; at < chunk.length; at += CHUNK_BYTES) deal(chunk.subarray(at, at + CHUNK_BYTES), space, page + at / PAGE_SIZE, shards, emit);
      next = page + chunk.length / PAGE_SIZE;
    });
  });
}

function deal(chunk: Uint8Array, space: number, first: number, shards: number, emit: (shard: number, batch: PageBatch) => void): void {
  const pages = chunk.length / PAGE_SIZE;
  const { records, shards: keys } = shardsOfPages(chunk, shards);
  const counts = new Uint32Array(shards);
  for (let p = 0; p < pages; p++) counts[keys[p]]++;
  const batches = Array.from(counts, (n) => ({ space, pages: new Uint32Array(n), data: new Uint8Array(n * PAGE_SIZE), records: new Uint8Array(n * FP_RECORD_SIZE) }));
  const filled = new Uint32Array(shards);
  for (let p = 0; p < pages; p++) {
    const s = keys[p];
    const i = filled[s]++;
    batches[s].pages[i] = first + p;
    batches[s].data.set(chunk.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE), i * PAGE_SIZE);
    batches[s].records.set(records.subarray(p * FP_RECORD_SIZE, (p + 1) * FP_RECORD_SIZE), i * FP_RECORD_SIZE);
  }
  batches.forEach((batch, s) => { if (batch.pages.length > 0) emit(s, batch); });
}
