/**
 * The fingerprint file (docs/fingerprint-file.md): what `ksm-wasm fingerprint` writes and
 * `estimate --from` reads. Every input's pages as fingerprint records, with their page indices,
 * in the inputs' order; a header that names the inputs; a SHA-256 over the whole file at its end.
 *
 *   offset 0   8 bytes   magic "KSMW-FP\n"
 *          8   u32 LE    version (1)
 *         12   u32 LE    header length H
 *         16   H bytes   header, UTF-8 JSON (FingerprintHeader)
 *       16+H   entries   for each input in order, `pages` entries of ENTRY_SIZE bytes:
 *                        u32 LE page index in the space, then the 24-byte record (hash.ts)
 *        end   32 bytes  SHA-256 of every byte before it
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { CliError, describeSystemError } from '../cli/errors.js';
import { PAGE_SIZE, inputPages, type ImageSource } from '../estimate/source.js';
import { FP_RECORD_SIZE } from './hash.js';
import { fingerprintSources, hashHere, type HashJobRunner } from '../shards/hash-ring.js';

export const FILE_MAGIC = 'KSMW-FP\n';
export const FILE_VERSION = 3;
/** Bytes per page in the file: its page index and its record. */
export const ENTRY_SIZE = 4 + FP_RECORD_SIZE;
const ENTRY_WORDS = ENTRY_SIZE / 4;
const RECORD_WORDS = FP_RECORD_SIZE / 4;
const PREFIX = 16;
const CHECKSUM_SIZE = 32;

/** One input as the file describes it. */
export interface FileInput {
  name: string;
  /** Pages in the file for it (present pages). */
  pages: number;
  /** Its space's size in pages (pages placed by index, with holes). */
  space_pages: number;
  /** Space page indices where a transparent huge page of 512 pages starts. */
  huge_spans: number[];
  /** Index (in this file) of the input it is a fork of, or null. */
  fork_of: number | null;
  /** With fork_of: page indices the parent maps and this one does not. */
  drop_pages: number[];
}

export interface FingerprintHeader {
  page_size: number;
  record_size: number;
  inputs: FileInput[];
}

/** A file read and checked: its header, and each input's entries (ENTRY_SIZE bytes each). */
export interface FingerprintFile {
  path: string;
  header: FingerprintHeader;
  /** Streams input i's entries (ENTRY_SIZE bytes each, in address order), a chunk of them at a time; a chunk is valid during the call. */
  readEntries(input: number, sink: (entries: Uint8Array) => void): void;
  /** The file's SHA-256 (hex): names the input of every shard run from it. */
  checksum: string;
}

/**
 * Writes the fingerprint file of `sources` to `path` (through a temporary file: nothing is left at
 * `path` unless all went well), fingerprinting on `runners` (default: in this thread).
 */
export function writeFingerprintFile(path: string, sources: readonly ImageSource[], runners: readonly HashJobRunner[] = [hashHere]): { pages: number; bytes: number } {
  const header = headerOf(sources);
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openOutput(temporary);
  const sha = createHash('sha256');
  let bytes = 0;
  const write = (data: Uint8Array) => {
    sha.update(data);
    for (let at = 0; at < data.length;) at += writeSync(fd, data, at);
    bytes += data.length;
  };
  try {
    write(prefix(header));
    writeEntries(sources, runners, write);
    const digest = new Uint8Array(sha.digest());
    for (let at = 0; at < digest.length;) at += writeSync(fd, digest, at);
    closeSync(fd);
    renameSync(temporary, path);
    return { pages: inputPages(header.inputs), bytes: bytes + CHECKSUM_SIZE };
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
}

function headerOf(sources: readonly ImageSource[]): FingerprintHeader {
  return {
    page_size: PAGE_SIZE,
    record_size: FP_RECORD_SIZE,
    inputs: sources.map((s) => ({
      name: s.name,
      pages: s.pages,
      space_pages: s.spacePages ?? s.pages,
      huge_spans: [...(s.hugeSpans ?? [])],
      fork_of: s.forkOf ? sources.indexOf(s.forkOf) : null,
      drop_pages: [...(s.dropPages ?? [])],
    })),
  };
}

function prefix(header: FingerprintHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(PREFIX + json.length);
  out.set(new TextEncoder().encode(FILE_MAGIC));
  const view = new DataView(out.buffer);
  view.setUint32(8, FILE_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, PREFIX);
  return out;
}

/** Every source's pages as entries, in order, fingerprinted on `runners`; each source must give the pages it said it has. */
function writeEntries(sources: readonly ImageSource[], runners: readonly HashJobRunner[], write: (data: Uint8Array) => void): void {
  const written = new Array<number>(sources.length).fill(0);
  fingerprintSources(sources, runners, (records, space, first) => {
    const n = records.length / FP_RECORD_SIZE;
    // Word by word (entries and records are whole words; the file is little-endian, as is every
    // machine WebAssembly runs on).
    const entries = new Uint32Array(n * ENTRY_WORDS);
    const from = new Uint32Array(records.buffer, records.byteOffset, n * RECORD_WORDS);
    for (let i = 0; i < n; i++) {
      entries[i * ENTRY_WORDS] = first + i;
      for (let w = 0; w < RECORD_WORDS; w++) entries[i * ENTRY_WORDS + 1 + w] = from[i * RECORD_WORDS + w];
    }
    write(new Uint8Array(entries.buffer));
    written[space] += n;
  });
  sources.forEach((source, i) => {
    if (written[i] !== source.pages) throw new CliError('input', `${source.name}: ${written[i]} pages read where ${source.pages} were expected (did it change while being read?)`);
  });
}

function openOutput(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (error) {
    throw describeSystemError(`-o ${path}`, error);
  }
}

/** Bytes read from a fingerprint file at a time (whole entries). */
const READ_BYTES = ENTRY_SIZE * 65536;

/**
 * Reads and checks a fingerprint file; anything wrong with it is one CliError naming the file. The
 * entries are not kept: the check streams the file once (its SHA-256), and readEntries streams an
 * input's entries again when they are loaded, so a file of any size takes a few MiB of memory.
 */
export function readFingerprintFile(path: string): FingerprintFile {
  const fail = (what: string) => new CliError('input', `${path}: ${what}`);
  const file = openFile(path);
  try {
    const size = file.size;
    const prefix = file.read(0, Math.min(size, PREFIX));
    const start = new TextDecoder().decode(prefix.subarray(0, FILE_MAGIC.length));
    if (size === 0 || !FILE_MAGIC.startsWith(start)) throw fail('not a ksm-wasm fingerprint file (no "KSMW-FP" magic at its start; make one with ksm-wasm fingerprint)');
    if (prefix.length < PREFIX) throw fail(`truncated: ${size} bytes, shorter than the ${PREFIX} bytes every fingerprint file starts with`);
    const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
    const version = view.getUint32(8, true);
    if (version !== FILE_VERSION) {
      const remedy = version < FILE_VERSION ? ' (its fingerprints were computed another way: make it again with ksm-wasm fingerprint)' : '';
      throw fail(`fingerprint file version ${version}; this ksm-wasm reads version ${FILE_VERSION}${remedy}`);
    }
    const headerLength = view.getUint32(12, true);
    if (PREFIX + headerLength + CHECKSUM_SIZE > size) throw fail(`truncated: ${size} bytes, shorter than its own header says`);
    const header = parseHeader(file.read(PREFIX, headerLength), fail);
    const expected = PREFIX + headerLength + inputPages(header.inputs) * ENTRY_SIZE + CHECKSUM_SIZE;
    if (size < expected) throw fail(`truncated: ${size} bytes where its header says ${expected}`);
    if (size > expected) throw fail(`corrupted: ${size - expected} bytes more than its header says`);
    const sha = createHash('sha256');
    for (let at = 0; at < expected - CHECKSUM_SIZE; at += READ_BYTES) sha.update(file.read(at, Math.min(READ_BYTES, expected - CHECKSUM_SIZE - at)));
    const digest = sha.digest('hex');
    if (digest !== Buffer.from(file.read(expected - CHECKSUM_SIZE, CHECKSUM_SIZE)).toString('hex')) throw fail('corrupted: its SHA-256 does not match its contents');
    const starts: number[] = [];
    let at = PREFIX + headerLength;
    for (const input of header.inputs) { starts.push(at); at += input.pages * ENTRY_SIZE; }
    const checked = { size, mtimeMs: file.mtimeMs };
    const readEntries = (input: number, sink: (entries: Uint8Array) => void): void => {
      const again = openFile(path);
      try {
        if (again.size !== checked.size || again.mtimeMs !== checked.mtimeMs) throw fail('changed since it was checked (give the estimate a file that nothing writes to)');
        const end = starts[input] + header.inputs[input].pages * ENTRY_SIZE;
        let next = 0; // the lowest page index the next entry may have
        for (let from = starts[input]; from < end; from += READ_BYTES) {
          const entries = again.read(from, Math.min(READ_BYTES, end - from));
          next = checkPageIndices(entries, next, header.inputs[input], input, fail);
          sink(entries);
        }
      } finally {
        again.close();
      }
    };
    return { path, header, readEntries, checksum: digest };
  } finally {
    file.close();
  }
}

/**
 * The entries' page indices must rise and stay inside the input's space: a file whose checksum
 * matches but whose indices do not (made by hand) is refused here, naming the file, not later by
 * the engine. Returns the lowest index the next entry may have.
 */
function checkPageIndices(entries: Uint8Array, next: number, input: FileInput, index: number, fail: (what: string) => CliError): number {
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  for (let at = 0; at < entries.length; at += ENTRY_SIZE) {
    const page = view.getUint32(at, true);
    if (page < next || page >= input.space_pages) {
      const why = page < next ? 'out of address order' : `outside its ${input.space_pages} pages`;
      throw fail(`corrupted: input ${index} ("${input.name}") has an entry for page ${page}, ${why}`);
    }
    next = page + 1;
  }
  return next;
}

/** A file open for positional reads (each read all of its bytes, or a CliError). */
function openFile(path: string): { size: number; mtimeMs: number; read(at: number, length: number): Uint8Array; close(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw describeSystemError(path, error);
  }
  const stat = fstatSync(fd);
  if (stat.isDirectory()) {
    closeSync(fd);
    throw new CliError('input', `${path}: a directory, not a fingerprint file`);
  }
  const { size, mtimeMs } = stat;
  return {
    size,
    mtimeMs,
    read(at, length) {
      const out = new Uint8Array(length);
      for (let done = 0; done < length;) {
        const n = readSync(fd, out, done, length - done, at + done);
        if (n === 0) throw new CliError('input', `${path}: ended at byte ${at + done} while being read (did it change?)`);
        done += n;
      }
      return out;
    },
    close() { closeSync(fd); },
  };
}

function parseHeader(text: Uint8Array, fail: (what: string) => CliError): FingerprintHeader {
  let header: FingerprintHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text)) as FingerprintHeader;
  } catch {
    throw fail('corrupted: its header is not JSON');
  }
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  const good = header && header.page_size === PAGE_SIZE && header.record_size === FP_RECORD_SIZE && Array.isArray(header.inputs) && header.inputs.length > 0
    && header.inputs.every((i, k) => typeof i?.name === 'string' && count(i.pages) && count(i.space_pages) && i.pages <= i.space_pages
      && Array.isArray(i.huge_spans) && Array.isArray(i.drop_pages) && (i.fork_of === null || (count(i.fork_of) && (i.fork_of as number) < k)));
  if (!good) throw fail(`corrupted: its header is not one of a version ${FILE_VERSION} fingerprint file (page size ${PAGE_SIZE}, records of ${FP_RECORD_SIZE} bytes, one input or more)`);
  return header;
}
