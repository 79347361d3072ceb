/**
 * An image source: one address space's pages, from a file, a core dump, a live process or a
 * built-in scenario. Opening a source checks it (and says what is wrong); reading streams it.
 */

/** Bytes per page. */
export { PAGE_SIZE } from '../backend.js';

/** Bytes handed to the sink at a time while reading (a multiple of PAGE_SIZE). */
export const CHUNK_BYTES = 4 << 20;

export interface ImageSource {
  /** What the user named: a path, "pid 1234", "clones/guest3". */
  readonly name: string;
  /** Present pages the space gets, all written and mergeable. */
  readonly pages: number;
  /** Streams the pages in address order, in chunks that are whole pages. */
  read(sink: (chunk: Uint8Array) => void): void;
}
