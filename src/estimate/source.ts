/**
 * An image source: one address space's pages, from a file, a core dump, a live process or a
 * built-in scenario. Opening a source checks it (and says what is wrong); reading streams it.
 */

import type { LiveFacts } from './proc/facts.js';

/** Bytes per page. */
export { PAGE_SIZE } from '../backend.js';

/** Bytes handed to the sink at a time while reading (a multiple of PAGE_SIZE). */
export const CHUNK_BYTES = 4 << 20;

/** The pages of all the inputs (sources, or a run's spaces). */
export const inputPages = (inputs: ReadonlyArray<{ readonly pages: number }>): number => inputs.reduce((n, s) => n + s.pages, 0);

/** Bytes [position, position + bytes) of file `path`, a whole number of pages but for a file's last one (zero-padded when read). */
export interface FileRun { readonly path: string; readonly position: number; readonly bytes: number }

export interface ImageSource {
  /** What the user named: a path, "pid 1234", "clones/guest3". */
  readonly name: string;
  /** Present pages the space gets, all written and mergeable. */
  readonly pages: number;
  /**
   * Streams the pages in address order, in chunks that are whole pages. `page` is the space's page
   * index of the chunk's first page; without it chunks follow each other from page 0. A chunk is
   * valid only during the call (a reader may reuse its buffer): copy what you keep.
   */
  read(sink: (chunk: Uint8Array, page?: number) => void): void;
  /**
   * A source already fingerprinted (a fingerprint file, the browser's workers): streams its pages'
   * fingerprint records (src/fingerprint/hash.ts), `page` the space's page index of the first. The
   * fingerprint engine loads these instead of reading pages; the page engine cannot take them.
   */
  readRecords?(sink: (records: Uint8Array, page: number) => void): void;
  /**
   * A generated source (--scenario NAME --size SIZE): streams its pages' plans (PLAN_WORDS words
   * each, src/estimate/scaled.ts), from which the core makes the same bytes read() gives, so they
   * can be made on the thread that fingerprints them. `page` is the space's page index of the first.
   */
  readPlans?(sink: (plans: Uint32Array, page: number) => void): void;
  /**
   * A raw image file: where its pages are in the file, chunk by chunk, without reading them, so that
   * the threads that fingerprint them read them too (src/shards/hash-ring.ts). `page` is the space's
   * page index of the run's first page; the run's bytes are what read() gives for those pages.
   */
  readFileRuns?(sink: (run: FileRun, page: number) => void): void;
  /** Size of the space in pages when pages are placed by index, with holes (default: pages). */
  readonly spacePages?: number;
  /** Space page indices where a whole transparent huge page starts (512 pages each): collapsed once written. */
  readonly hugeSpans?: readonly number[];
  /** A live process sharing frames with an earlier source after a fork: its space is a fork of that one's. */
  readonly forkOf?: ImageSource;
  /** With forkOf: page indices the parent maps and this one does not (dropped after the fork). */
  readonly dropPages?: readonly number[];
  /** A live process: which one, and what its page set is. */
  readonly live?: LiveFacts;
}

/** Whole transparent huge pages among the inputs. */
export const hugeSpanCount = (sources: readonly ImageSource[]): number => sources.reduce((n, s) => n + (s.hugeSpans?.length ?? 0), 0);
