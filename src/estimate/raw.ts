/**
 * Raw memory images: every 4096 bytes of the file is one present page (as if the guest had
 * written it and madvised the whole region mergeable).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { CliError, describeSystemError } from '../cli/errors.js';
import { CHUNK_BYTES, PAGE_SIZE, type FileRun, type ImageSource } from './source.js';
import { ImageError, rawImageRanges } from '../images/layout.js';

/** Checks a raw image file and returns it as a source. */
export function openRawImage(path: string, size = statImage(path)): ImageSource {
  try {
    rawImageRanges(path, size);
  } catch (error) {
    throw error instanceof ImageError ? new CliError('input', error.message) : error;
  }
  return {
    name: path,
    pages: size / PAGE_SIZE,
    read: (sink) => readRange(path, 0, size, sink),
    readFileRuns: (sink) => fileRuns(path, [{ offset: 0, length: size }], sink),
  };
}

/** The size of a regular file; a CliError for anything else. */
export function statImage(path: string): number {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw describeSystemError(path, error);
  }
  if (stat.isDirectory()) throw new CliError('input', `${path}: is a directory, not an image file`);
  if (!stat.isFile()) throw new CliError('input', `${path}: not a regular file`);
  return stat.size;
}

/** Opens an input file for reading; a refusal becomes a CliError naming the file. */
export function openInput(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (error) {
    throw describeSystemError(path, error);
  }
}

/** Streams bytes [offset, offset + length) of a file to the sink, in whole-page chunks (the tail zero-padded). */
export function readRange(path: string, offset: number, length: number, sink: (chunk: Uint8Array) => void): void {
  const fd = openInput(path);
  try {
    const buffer = new Uint8Array(CHUNK_BYTES);
    for (let done = 0; done < length;) {
      const want = Math.min(CHUNK_BYTES, length - done);
      const got = readFully(fd, buffer, want, offset + done, path);
      const whole = Math.ceil(got / PAGE_SIZE) * PAGE_SIZE;
      buffer.fill(0, got, whole);
      sink(buffer.subarray(0, whole));
      done += want;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The runs read() gives for byte ranges of a file read one after the other with readRange: chunks
 * of CHUNK_BYTES, each range's tail its own run, page indices following on.
 */
export function fileRuns(path: string, ranges: ReadonlyArray<{ offset: number; length: number }>, sink: (run: FileRun, page: number) => void): void {
  let page = 0;
  for (const range of ranges) {
    for (let done = 0; done < range.length; done += CHUNK_BYTES) {
      const bytes = Math.min(CHUNK_BYTES, range.length - done);
      sink({ path, position: range.offset + done, bytes }, page);
      page += Math.ceil(bytes / PAGE_SIZE);
    }
  }
}

/** Reads exactly `want` bytes at `position` into `buffer`; a file that ends first is a CliError naming it. */
export function readFully(fd: number, buffer: Uint8Array, want: number, position: number, path: string): number {
  let got = 0;
  while (got < want) {
    const n = readSync(fd, buffer, got, want - got, position + got);
    if (n === 0) throw new CliError('input', `${path}: the file ended at byte ${position + got}, before the ${want} bytes expected there (was it truncated while being read?)`);
    got += n;
  }
  return got;
}
