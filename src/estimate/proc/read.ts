/**
 * Reading a process's pages through /proc/PID/mem: consecutive addresses in one read (up to a
 * chunk), so a large process streams at close to the speed of a sequential read of the same ranges.
 * /proc/PID/mem reads with FOLL_FORCE, so `---p` mappings (PROT_NONE) are read too.
 */
import { readSync } from 'node:fs';
import { PAGE_SIZE } from './pagemap.js';

/** Pages handed to the sink at a time (4 MiB). */
export const CHUNK_PAGES = 1024;

export interface ReadResult {
  /** Pages that could not be read (they went away between the walk and the read): zeros. */
  unreadable: number;
  bytes: number;
}

/**
 * Reads the pages `which` (indices into `addresses`, ascending) and hands each run to the sink
 * with the index of its first page. The chunk is one buffer reused for every run: the sink copies
 * what it keeps. `onBytes` is called after each read (progress).
 */
export function readPages(memFd: number, addresses: ArrayLike<number>, which: ArrayLike<number>,
  sink: (chunk: Uint8Array, first: number) => void, onBytes?: (bytes: number) => void): ReadResult {
  const result: ReadResult = { unreadable: 0, bytes: 0 };
  const buffer = new Uint8Array(CHUNK_PAGES * PAGE_SIZE);
  for (let i = 0; i < which.length;) {
    let j = i + 1;
    while (j < which.length && j - i < CHUNK_PAGES && which[j] === which[j - 1] + 1 && addresses[which[j]] === addresses[which[j - 1]] + PAGE_SIZE) j++;
    const bytes = buffer.subarray(0, (j - i) * PAGE_SIZE);
    result.unreadable += readRun(memFd, addresses[which[i]], bytes);
    sink(bytes, which[i]);
    result.bytes += bytes.length;
    onBytes?.(bytes.length);
    i = j;
  }
  return result;
}

/** One run in one read if it works, else page by page; returns the pages that failed (left zero). */
function readRun(fd: number, address: number, into: Uint8Array): number {
  let got = Math.max(0, tryRead(fd, into, address));
  let failed = 0;
  for (got -= got % PAGE_SIZE; got < into.length; got += PAGE_SIZE) {
    const page = into.subarray(got, got + PAGE_SIZE);
    if (tryRead(fd, page, address + got) < PAGE_SIZE) {
      page.fill(0); // the buffer is reused: a page that failed reads as zeros
      failed++;
    }
  }
  return failed;
}

function tryRead(fd: number, into: Uint8Array, address: number): number {
  try {
    return readSync(fd, into, 0, into.length, address);
  } catch (error) {
    if (['EIO', 'EFAULT'].includes((error as NodeJS.ErrnoException)?.code ?? '')) return 0;
    throw error;
  }
}
