/**
 * The inputs' pages dealt to their shards while they are read: every source in order, each chunk's
 * pages grouped by shard (balance.ts) into batches of one space's pages with their page indices.
 * Inputs that tie pages of different contents together cannot be split: a fork shares frames with
 * its parent, and a huge page splits for any of its subpages (its zero-filled subpages then leave
 * ksmd's view, whichever shard they are in).
 */
import { CHUNK_BYTES, PAGE_SIZE, type ImageSource } from '../estimate/source.js';
import { ChunkPool, type PooledChunk } from './chunk-pool.js';
import { fingerprintPages } from '../fingerprint/hash.js';
import { ContentDeal } from './balance.js';

/**
 * Pages of one space for one shard, out of a chunk that all shards share (chunk-pool.ts). The
 * shard's i-th page is page index pages[i] of the space; its bytes are at slots[i] × PAGE_SIZE of
 * `data`. The shard calls releaseChunk(batch) once it has read them. (The fingerprint engine's
 * shards are dealt records instead: deal-records.ts.)
 */
export interface PageBatch extends PooledChunk { space: number; pages: Uint32Array; slots: Uint32Array }

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
  const pool = new ChunkPool();
  const contents = new ContentDeal(shards);
  sources.forEach((source, space) => {
    let next = 0;
    source.read((chunk, page = next) => {
      for (let at = 0; at < chunk.length; at += CHUNK_BYTES) deal(pool, chunk.subarray(at, at + CHUNK_BYTES), space, page + at / PAGE_SIZE, contents, emit);
      next = page + chunk.length / PAGE_SIZE;
    });
  });
}

function deal(pool: ChunkPool, chunk: Uint8Array, space: number, first: number, contents: ContentDeal, emit: (shard: number, batch: PageBatch) => void): void {
  const pages = chunk.length / PAGE_SIZE;
  const shards = contents.shards;
  const keys = contents.deal(fingerprintPages(chunk));
  const counts = new Uint32Array(shards);
  for (let p = 0; p < pages; p++) counts[keys[p]]++;
  const pooled = pool.fill(chunk, counts.filter((n) => n > 0).length);
  const batches = Array.from(counts, (n) => ({ ...pooled, space, pages: new Uint32Array(n), slots: new Uint32Array(n) }));
  const filled = new Uint32Array(shards);
  for (let p = 0; p < pages; p++) {
    const s = keys[p];
    const i = filled[s]++;
    batches[s].pages[i] = first + p;
    batches[s].slots[i] = p;
  }
  batches.forEach((batch, s) => { if (batch.pages.length > 0) emit(s, batch); });
}
