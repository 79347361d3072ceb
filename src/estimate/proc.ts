/**
 * Live processes (--pid): the present private anonymous pages of their private writable mappings,
 * found through /proc/PID/maps and /proc/PID/pagemap and read through /proc/PID/mem. Reading
 * another process's memory needs root or ptrace rights over it.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { CliError, describeSystemError } from '../cli/errors.js';
import { CHUNK_BYTES, PAGE_SIZE, type ImageSource } from './source.js';

/** pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
const PM_PRESENT = 1n << 63n;
const PM_FILE_OR_SHARED_ANON = 1n << 61n;

interface Run { address: number; pages: number }

/** Parses a --pid value; a CliError if it is not a positive integer. */
export function parsePid(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new CliError('input', `--pid ${text}: not a process id (a positive integer)`);
  return Number(text);
}

/** Finds the pages of a live process now and returns them as a source (read later, in address order). */
export function openProcess(pid: number): ImageSource {
  const name = `pid ${pid}`;
  const maps = readProcText(pid, 'maps');
  const runs = presentRuns(pid, privateWritableRanges(maps));
  const pages = runs.reduce((n, r) => n + r.pages, 0);
  if (pages === 0) throw new CliError('input', `${name}: no present private anonymous page in its private writable mappings`);
  return { name, pages, read: (sink) => readRuns(pid, runs, sink) };
}

function readProcText(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (error) {
    throw procError(pid, file, error);
  }
}

function procError(pid: number, file: string, error: unknown): CliError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return new CliError('input', `pid ${pid}: no such process`);
  if (code === 'EACCES' || code === 'EPERM') {
    return new CliError('input', `pid ${pid}: cannot read /proc/${pid}/${file}: permission denied (reading another process's memory needs root or ptrace rights over it)`);
  }
  return describeSystemError(`pid ${pid}: /proc/${pid}/${file}`, error);
}

/** [start, end) of every mapping that is readable, writable and private ("rw-p"). */
function privateWritableRanges(maps: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4})/.exec(line);
    if (!m || m[3][0] !== 'r' || m[3][1] !== 'w' || m[3][3] !== 'p') continue;
    ranges.push([parseInt(m[1], 16), parseInt(m[2], 16)]);
  }
  return ranges;
}

/** Runs of consecutive pages that are present and private anonymous (what ksmd would visit). */
function presentRuns(pid: number, ranges: Array<[number, number]>): Run[] {
  const fd = openProc(pid, 'pagemap');
  const runs: Run[] = [];
  try {
    for (const [start, end] of ranges) {
      const count = (end - start) / PAGE_SIZE;
      const entries = new BigUint64Array(count);
      const got = readSync(fd, new Uint8Array(entries.buffer), 0, count * 8, (start / PAGE_SIZE) * 8);
      for (let i = 0; i < got / 8; i++) {
        const e = entries[i];
        if (!(e & PM_PRESENT) || e & PM_FILE_OR_SHARED_ANON) continue;
        const address = start + i * PAGE_SIZE;
        const last = runs[runs.length - 1];
        if (last && last.address + last.pages * PAGE_SIZE === address) last.pages++;
        else runs.push({ address, pages: 1 });
      }
    }
  } catch (error) {
    throw error instanceof CliError ? error : procError(pid, 'pagemap', error);
  } finally {
    closeSync(fd);
  }
  return runs;
}

function openProc(pid: number, file: string): number {
  try {
    return openSync(`/proc/${pid}/${file}`, 'r');
  } catch (error) {
    throw procError(pid, file, error);
  }
}

/** Streams the runs from /proc/PID/mem; a page that cannot be read (it went away) reads as zeros. */
function readRuns(pid: number, runs: Run[], sink: (chunk: Uint8Array) => void): void {
  const fd = openProc(pid, 'mem');
  try {
    for (const run of runs) {
      for (let first = 0; first < run.pages; first += CHUNK_PAGES) {
        const count = Math.min(CHUNK_PAGES, run.pages - first);
        sink(readPages(pid, fd, run.address + first * PAGE_SIZE, count));
      }
    }
  } finally {
    closeSync(fd);
  }
}

const CHUNK_PAGES = CHUNK_BYTES / PAGE_SIZE;

/** Pages at an address, in one read if it works, else page by page (zeros where a page fails). */
function readPages(pid: number, fd: number, address: number, count: number): Uint8Array {
  const bytes = new Uint8Array(count * PAGE_SIZE);
  let got = tryRead(pid, fd, bytes, address);
  for (got -= got % PAGE_SIZE; got < bytes.length; got += PAGE_SIZE) {
    tryRead(pid, fd, bytes.subarray(got, got + PAGE_SIZE), address + got);
  }
  return bytes;
}

function tryRead(pid: number, fd: number, into: Uint8Array, address: number): number {
  try {
    return readSync(fd, into, 0, into.length, address);
  } catch (error) {
    if (isIoError(error)) return 0;
    throw procError(pid, 'mem', error);
  }
}

const isIoError = (error: unknown): boolean => ['EIO', 'EFAULT'].includes((error as NodeJS.ErrnoException)?.code ?? '');
