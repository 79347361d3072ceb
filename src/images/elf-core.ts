/**
 * ELF core files (gcore, QEMU dump-guest-memory): the file bytes of their PT_LOAD segments are the
 * present pages, in address order. Only 64-bit little-endian ET_CORE files are taken.
 *
 * The parser reads through whatever holds the file: it is a generator that yields the byte ranges
 * it needs and receives their bytes, so Node (synchronous file reads, src/estimate/elf.ts) and the
 * browser (async Blob slices, the demo) run the same checks and give the same segments.
 */

/** A byte range the parser needs; it is answered with exactly `length` bytes (or a short read at the end). */
export interface ReadRequest { position: number; length: number }

/** A loadable segment: `length` bytes at `offset` in the file are the pages at `vaddr`. */
export interface ElfSegment extends ByteRange { vaddr: bigint; paddr: bigint; index: number }

import { ImageError, type ByteRange } from './layout.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_CORE = 4;
const PT_LOAD = 1;
const PN_XNUM = 0xffff;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const ET_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'ET_REL', 2: 'ET_EXEC', 3: 'ET_DYN', 4: 'ET_CORE' };

/** True if the first bytes of a file are the ELF magic. */
export function hasElfMagic(first: Uint8Array): boolean {
  return first.length >= 4 && ELF_MAGIC.every((b, i) => first[i] === b);
}

/** The file's loadable segments with bytes in the file, in ascending address order (ksmd's order). */
export function* elfCoreSegments(name: string, size: number): Generator<ReadRequest, ElfSegment[], Uint8Array> {
  if (size < EHDR_SIZE) throw new ImageError(`${name}: truncated ELF file (${size} bytes, shorter than the 64-byte ELF header)`);
  const header = yield* readView(name, 0, EHDR_SIZE, size);
  checkHeader(name, header);
  const phoff = safeNumber(header.getBigUint64(32, true), name, 'e_phoff');
  const count = yield* programHeaderCount(name, header, size);
  if (phoff + count * PHDR_SIZE > size) {
    throw new ImageError(`${name}: truncated ELF core: its ${count} program headers end at byte ${phoff + count * PHDR_SIZE}, the file has ${size}`);
  }
  const table = yield* readView(name, phoff, count * PHDR_SIZE, size);
  const segments = loadSegments(name, table, count, size);
  if (segments.length === 0) throw new ImageError(`${name}: ELF core file without any PT_LOAD segment that has bytes in the file`);
  return segments;
}

/** Runs the parser on a synchronous reader. */
export function runSync<T>(parser: Generator<ReadRequest, T, Uint8Array>, read: (r: ReadRequest) => Uint8Array): T {
  let step = parser.next();
  while (!step.done) step = parser.next(read(step.value));
  return step.value;
}

/** Runs the parser on an asynchronous reader (a Blob's slices). */
export async function runAsync<T>(parser: Generator<ReadRequest, T, Uint8Array>, read: (r: ReadRequest) => Promise<Uint8Array>): Promise<T> {
  let step = parser.next();
  while (!step.done) step = parser.next(await read(step.value));
  return step.value;
}

function checkHeader(name: string, h: DataView): void {
  if (!hasElfMagic(new Uint8Array(h.buffer, h.byteOffset, 4))) throw new ImageError(`${name}: not an ELF file (no ELF magic)`);
  const cls = h.getUint8(4);
  if (cls !== ELFCLASS64) throw new ImageError(`${name}: ${cls === 1 ? '32-bit' : `class ${cls}`} ELF file; only 64-bit (ELFCLASS64) core files are read`);
  const data = h.getUint8(5);
  if (data !== ELFDATA2LSB) throw new ImageError(`${name}: ${data === 2 ? 'big-endian' : `data encoding ${data}`} ELF file; only little-endian core files are read`);
  const type = h.getUint16(16, true);
  if (type !== ET_CORE) throw new ImageError(`${name}: ELF file of type ${ET_NAMES[type] ?? type}, not a core file (ET_CORE)`);
  const phentsize = h.getUint16(54, true);
  if (phentsize !== PHDR_SIZE) throw new ImageError(`${name}: program header entries of ${phentsize} bytes (a 64-bit ELF file has ${PHDR_SIZE})`);
}

/** e_phnum, or (PN_XNUM) the real count kept in section header 0's sh_info. */
function* programHeaderCount(name: string, h: DataView, size: number): Generator<ReadRequest, number, Uint8Array> {
  const phnum = h.getUint16(56, true);
  if (phnum !== PN_XNUM) return phnum;
  const shoff = safeNumber(h.getBigUint64(40, true), name, 'e_shoff');
  if (shoff + SHDR_SIZE > size) throw new ImageError(`${name}: truncated ELF core: section header 0 (which holds the program header count) is past the end`);
  return (yield* readView(name, shoff, SHDR_SIZE, size)).getUint32(44, true);
}

function loadSegments(name: string, table: DataView, count: number, size: number): ElfSegment[] {
  const segments: ElfSegment[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * PHDR_SIZE;
    if (table.getUint32(at, true) !== PT_LOAD) continue;
    const offset = safeNumber(table.getBigUint64(at + 8, true), name, `segment ${i} p_offset`);
    const filesz = safeNumber(table.getBigUint64(at + 32, true), name, `segment ${i} p_filesz`);
    if (filesz === 0) continue;
    if (offset + filesz > size) {
      throw new ImageError(`${name}: truncated ELF core: PT_LOAD segment ${i} needs bytes up to ${offset + filesz}, the file has ${size}`);
    }
    segments.push({ offset, length: filesz, index: i, vaddr: table.getBigUint64(at + 16, true), paddr: table.getBigUint64(at + 24, true) });
  }
  // ksmd walks an address space in ascending address order.
  return segments.sort((a, b) => cmp(a.vaddr, b.vaddr) || cmp(a.paddr, b.paddr) || a.index - b.index);
}

function* readView(name: string, position: number, length: number, size: number): Generator<ReadRequest, DataView, Uint8Array> {
  if (position + length > size) throw new ImageError(`${name}: truncated ELF file (needs bytes up to ${position + length}, has ${size})`);
  const bytes = yield { position, length };
  if (bytes.length < length) throw new ImageError(`${name}: truncated ELF file (ends at byte ${position + bytes.length})`);
  return new DataView(bytes.buffer, bytes.byteOffset, length);
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

function safeNumber(value: bigint, name: string, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError(`${name}: ELF ${field} ${value} is out of range`);
  return Number(value);
}
