/**
 * Shard I of K of fingerprint files, as sources: the fingerprint engine takes their records as
 * they are (readRecords). For the page engine (--mode pages) each record becomes a stand-in page:
 * all zeros for a zero page, else the record itself (its 128-bit fingerprint) followed by zeros, so
 * two stand-in pages are equal exactly when their fingerprints are. KSM's counters depend only on
 * which pages are equal (README, "Bigger hosts: content shards"), so they come out as from the pages
 * themselves; a stand-in costs a whole page of engine memory per page.
 */
import type { ImageSource } from '../estimate/source.js';
import { PAGE_SIZE } from '../estimate/source.js';
import { ENTRY_SIZE, type FileInput, type FingerprintFile } from '../fingerprint/file.js';
import { FP_RECORD_SIZE, recordIsZero, shardOf } from '../fingerprint/hash.js';

/** Which shard of how many. */
export interface ShardId { index: number; count: number }

/** One input of a fingerprint file: its description, and its entries streamed from the file. */
interface StreamedInput { input: FileInput; readEntries(sink: (entries: Uint8Array) => void): void; forkOf: number | null }

/** The inputs of all files, in order (fork_of indices made global). */
export function fileInputs(files: readonly FingerprintFile[]): StreamedInput[] {
  let base = 0;
  return files.flatMap((file) => {
    const out = file.header.inputs.map((input, i) => ({
      input, readEntries: (sink: (entries: Uint8Array) => void) => file.readEntries(i, sink), forkOf: input.fork_of === null ? null : base + input.fork_of,
    }));
    base += out.length;
    return out;
  });
}

/**
 * Shard `shard`'s pages of every input, as stand-in sources (every input is one, whatever it holds
 * in this shard). The entries stay in the file: counting a shard's pages reads them once, and
 * every read of the source streams them again. A shard of several keeps its pages one after the
 * other, in their order, in a space of just their number (as a threaded shard places them:
 * ShardEngine's #place), so its page tables and scans hold its share only.
 */
export function shardSources(files: readonly FingerprintFile[], shard: ShardId): ImageSource[] {
  const sources: ImageSource[] = [];
  for (const { input, readEntries, forkOf } of fileInputs(files)) {
    const mine = (sink: (entries: Uint8Array) => void) => {
      let next = 0;
      readEntries((entries) => {
        const kept = entriesOfShard(entries, shard);
        if (shard.count > 1) next = renumber(kept, next);
        sink(kept);
      });
    };
    let pages = 0;
    if (shard.count === 1) pages = input.pages;
    else mine((entries) => { pages += entries.length / ENTRY_SIZE; });
    sources.push({
      name: input.name,
      pages,
      spacePages: shard.count === 1 ? input.space_pages : Math.max(1, pages),
      hugeSpans: input.huge_spans,
      forkOf: forkOf === null ? undefined : sources[forkOf],
      dropPages: input.drop_pages,
      read: (sink) => mine((entries) => standInPages(entries, sink)),
      readRecords: (sink) => recordRuns(mine, sink),
    });
  }
  return sources;
}

/** The entries (page index + record) whose record falls in `shard`. */
function entriesOfShard(entries: Uint8Array, shard: ShardId): Uint8Array {
  if (shard.count === 1) return entries;
  const n = entries.length / ENTRY_SIZE;
  const out = new Uint8Array(entries.length);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const record = entries.subarray(i * ENTRY_SIZE + 4, (i + 1) * ENTRY_SIZE);
    if (shardOf(record, shard.count) !== shard.index) continue;
    out.set(entries.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE), kept * ENTRY_SIZE);
    kept++;
  }
  return out.subarray(0, kept * ENTRY_SIZE);
}

/** Gives the entries (a copy: entriesOfShard's) the page indices `first`, `first` + 1, …; returns the next one. */
function renumber(entries: Uint8Array, first: number): number {
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  let next = first;
  for (let at = 0; at < entries.length; at += ENTRY_SIZE) view.setUint32(at, next++, true);
  return next;
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

/** Records to hand over at most at a time. */
const RUN_RECORDS = 4096;

/** The entries' records, in runs of consecutive page indices. */
function recordRuns(stream: (sink: (entries: Uint8Array) => void) => void, sink: (records: Uint8Array, page: number) => void): void {
  const run = new Uint8Array(RUN_RECORDS * FP_RECORD_SIZE);
  let first = 0;
  let count = 0;
  const flush = () => { if (count) sink(run.subarray(0, count * FP_RECORD_SIZE), first); count = 0; };
  stream((entries) => {
    const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
    for (let at = 0; at < entries.length; at += ENTRY_SIZE) {
      const page = view.getUint32(at, true);
      if (count && (page !== first + count || count === RUN_RECORDS)) flush();
      if (count === 0) first = page;
      run.set(entries.subarray(at + 4, at + ENTRY_SIZE), count * FP_RECORD_SIZE);
      count++;
    }
  });
  flush();
}
