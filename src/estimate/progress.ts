/**
 * Progress on stderr for long runs: silent while scanning has taken less than a second, then one
 * line per full scan.
 */
import type { ScanRecord } from './run.js';
import { PAGE_SIZE, inputPages, type FileRun, type ImageSource } from './source.js';
import { FP_RECORD_SIZE, PLAN_WORDS } from '../generated/core-abi.js';

/** Inputs this large get a line before reading and lines while reading. */
const LARGE_BYTES = 256 * 2 ** 20;
/** At most one line of reading progress this often. */
const READ_LINE_MS = 2000;

export function progressReporter(write: (text: string) => void, quietMs = 1000): (scan: ScanRecord, run: { pages: number }) => void {
  return (scan, { pages }) => {
    if (scan.wallMs < quietMs) return;
    write(`ksm-wasm estimate: full scan ${scan.fullScans} of ${pages} pages: shared ${scan.pagesShared}, sharing ${scan.pagesSharing}, ` +
      `zero ${scan.ksmZeroPages} (${(scan.wallMs / 1000).toFixed(1)} s scanning)\n`);
  };
}

/** One line before reading large inputs (they take a while to load). */
export function announceRead(pages: number, write: (text: string) => void): void {
  if (pages * PAGE_SIZE >= LARGE_BYTES) write(`ksm-wasm estimate: reading ${(pages * PAGE_SIZE / 2 ** 20).toFixed(0)} MiB of pages\n`);
}

/**
 * The same sources, with a line on stderr every `everyMs` (default READ_LINE_MS) while large inputs are read (pages,
 * plans or records alike). A fork keeps pointing at its parent's wrapper, as it did at the parent.
 */
export function withReadProgress(sources: readonly ImageSource[], write: (text: string) => void, everyMs = READ_LINE_MS): ImageSource[] {
  const total = inputPages(sources);
  if (total * PAGE_SIZE < LARGE_BYTES) return [...sources];
  const started = performance.now();
  let read = 0;
  let lastLine = started;
  const count = (pages: number): void => {
    read += pages;
    const now = performance.now();
    if (now - lastLine < everyMs || read >= total) return;
    lastLine = now;
    const mib = (n: number) => ((n * PAGE_SIZE) / 2 ** 20).toFixed(0);
    write(`ksm-wasm estimate: read ${mib(read)} of ${mib(total)} MiB (${((now - started) / 1000).toFixed(0)} s)\n`);
  };
  const wrapped = new Map<ImageSource, ImageSource>();
  return sources.map((source) => {
    // The source as the prototype: its getters (a live process's pages) stay live.
    const out: ImageSource = Object.create(source, {
      forkOf: { value: source.forkOf && (wrapped.get(source.forkOf) ?? source.forkOf) },
      read: { value: (sink: Parameters<ImageSource['read']>[0]) => source.read((chunk, page) => { sink(chunk, page); count(chunk.length / PAGE_SIZE); }) },
      readPlans: { value: source.readPlans && ((sink: (plans: Uint32Array, page: number) => void) => source.readPlans!((plans, page) => { sink(plans, page); count(plans.length / PLAN_WORDS); })) },
      readRecords: { value: source.readRecords && ((sink: (records: Uint8Array, page: number) => void) => source.readRecords!((records, page) => { sink(records, page); count(records.length / FP_RECORD_SIZE); })) },
      readFileRuns: { value: source.readFileRuns && ((sink: (run: FileRun, page: number) => void) => source.readFileRuns!((run, page) => { sink(run, page); count(Math.ceil(run.bytes / PAGE_SIZE)); })) },
    });
    wrapped.set(source, out);
    return out;
  });
}
