/**
 * Shard I of K of fingerprint files, as sources of pages the page engine can scan: the STAND-IN
 * until an engine of fingerprint records runs the shards. Each record becomes a page that stands
 * for its contents: all zeros for a zero page, else the record itself (its 128-bit fingerprint)
 * followed by zeros, so two stand-in pages are equal exactly when their fingerprints are. KSM's
 * counters depend only on which pages are equal (DESIGN.md, "Beyond one linear memory"), so they
 * come out as from the pages themselves; the stand-in costs a whole page of engine memory per page.
 */
import type { ImageSource } from '../estimate/source.js';
import { PAGE_SIZE } from '../estimate/source.js';
import { ENTRY_SIZE, type FileInput, type FingerprintFile } from '../fingerprint/file.js';
import { FP_RECORD_SIZE, recordIsZero, shardOf } from '../fingerprint/hash.js';

/** Which shard of how many. */
export interface ShardId { index: number; count: number }

/** The inputs of all files, in order (fork_of indices made global). */
export function fileInputs(files: readonly FingerprintFile[]): Array<{ input: FileInput; entries: Uint8Array; forkOf: number | null }> {
  let base = 0;
  return files.flatMap((file) => {
    const out = file.header.inputs.map((input, i) => ({ input, entries: file.entries[i], forkOf: input.fork_of === null ? null : base + input.fork_of }));
    base += out.length;
    return out;
  });
}

/** Shard `shard`'s pages of every input, as stand-in sources (every input is one, whatever it holds in this shard). */
export function shardSources(files: readonly FingerprintFile[], shard: ShardId): ImageSource[] {
  const sources: ImageSource[] = [];
  for (const { input, entries, forkOf } of fileInputs(files)) {
    const mine = entriesOfShard(entries, shard);
    sources.push({
      name: input.name,
      pages: mine.length / ENTRY_SIZE,
      spacePages: input.space_pages,
      hugeSpans: input.huge_spans,
      forkOf: forkOf === null ? undefined : sources[forkOf],
      dropPages: input.drop_pages,
      read: (sink) => standInPages(mine, sink),
    });
  }
  return sources;
}

/** The entries (page index + record) whose record falls in `shard`. */
function entriesOfShard(entries: Uint8Array, shard: ShardId): Uint8Array {
  if (shard.count === 1) return entries;
  const n = entries.length / ENTRY_SIZE;
  const records = new Uint8Array(n * FP_RECORD_SIZE);
  for (let i = 0; i < n; i++) records.set(entries.subarray(i * ENTRY_SIZE + 4, (i + 1) * ENTRY_SIZE), i * FP_RECORD_SIZE);
  const out = new Uint8Array(entries.length);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (shardOf(records, shard.count, i) !== shard.index) continue;
    out.set(entries.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE), kept * ENTRY_SIZE);
    kept++;
  }
  return out.subarray(0, kept * ENTRY_SIZE);
}

/** One stand-in page per entry, at its page index. */
function standInPages(entries: Uint8Array, sink: (chunk: Uint8Array, page?: number) => void): void {
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const page = new Uint8Array(PAGE_SIZE);
  for (let at = 0; at < entries.length; at += ENTRY_SIZE) {
    const record = entries.subarray(at + 4, at + ENTRY_SIZE);
    page.fill(0);
    if (!recordIsZero(record)) page.set(record);
    sink(page, view.getUint32(at, true));
  }
}
