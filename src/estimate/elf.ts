/**
 * ELF core files as image sources: the parser (src/images/elf-core.ts) on synchronous file reads.
 * Its complaints become input errors of the CLI.
 */
import { closeSync, readSync } from 'node:fs';
import { CliError } from '../cli/errors.js';
import { elfCoreSegments, hasElfMagic, runSync, type ReadRequest } from '../images/elf-core.js';
import { ImageError, pagesOf } from '../images/layout.js';
import { fileRuns, openInput, readRange } from './raw.js';
import type { ImageSource } from './source.js';

/** True if the file starts with the ELF magic. */
export function isElf(path: string, size: number): boolean {
  return size >= 4 && hasElfMagic(readAt(path, { position: 0, length: 4 }));
}

/** Checks an ELF core file and returns its loadable segments as one source. */
export function openElfCore(path: string, size: number): ImageSource {
  let segments;
  try {
    segments = runSync(elfCoreSegments(path, size), (request) => readAt(path, request));
  } catch (error) {
    throw error instanceof ImageError ? new CliError('input', error.message) : error;
  }
  return {
    name: path,
    pages: pagesOf(segments),
    read: (sink) => { for (const s of segments) readRange(path, s.offset, s.length, sink); },
    readFileRuns: (sink) => fileRuns(path, segments, sink),
  };
}

/** The bytes of a range (fewer at the end of the file). */
function readAt(path: string, { position, length }: ReadRequest): Uint8Array {
  const fd = openInput(path);
  try {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
