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
import { FP_RECORD_SIZE, recordIsZero } from '../fingerprint/hash.js';
import { ContentDeal, type RecordLayout } from './balance.js';

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
 * in this shard). The entries stay in the file: dealing them to the shards reads them once, and
 * every read of the source streams them again. A shard of several keeps its pages one after the
 * other, in their order, in a space of just their number (as a threaded shard places them:
 * ShardEngine's #place), so its page tables and scans hold its share only.
 */
export function shardSources(files: readonly FingerprintFile[], shard: ShardId): ImageSource[] {
  const inputs = fileInputs(files);
  const { deal, pagesOfShard } = dealFiles(inputs, shard);
  const sources: ImageSource[] = [];
  inputs.forEach(({ input, readEntries, forkOf }, i) => {
    const mine = (sink: (entries: Uint8Array) => void) => {
      let next = 0;
      readEntries((entries) => {
        const kept = entriesOfShard(entries, shard, deal);
        if (shard.count > 1) next = renumber(kept, next);
        sink(kept);
      });
    };
    const pages = pagesOfShard[i];
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
  });
  return sources;
}

/**
 * Every input's entries dealt to the shards once, in order, as `estimate --threads` deals them
 * (balance.ts), and the number of pages of each input in `shard`. One shard holds all pages
 * without a deal.
 */
function dealFiles(inputs: readonly StreamedInput[], shard: ShardId): { deal: ContentDeal; pagesOfShard: number[] } {
  const deal = new ContentDeal(shard.count);
  if (shard.count === 1) return { deal, pagesOfShard: inputs.map(({ input }) => input.pages) };
  const pagesOfShard = inputs.map(({ readEntries }) => {
    let pages = 0;
    readEntries((entries) => {
      for (const s of deal.dealIn(entries, entryRecords(entries))) if (s === shard.index) pages++;
    });
    return pages;
  });
  return { deal, pagesOfShard };
}

/** Where the records of file entries are: after each entry's 4-byte page index. */
const entryRecords = (entries: Uint8Array): RecordLayout => ({ count: entries.length / ENTRY_SIZE, stride: ENTRY_SIZE, first: 4 });

/** The entries (page index + record) whose record fell in `shard` when all were dealt. */
function entriesOfShard(entries: Uint8Array, shard: ShardId, deal: ContentDeal): Uint8Array {
  if (shard.count === 1) return entries;
  const shards = deal.shardsOfDealt(entries, entryRecords(entries));
  const out = new Uint8Array(entries.length);
  let kept = 0;
  for (let i = 0; i < shards.length; i++) {
    if (shards[i] !== shard.index) continue;
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
