/**
 * ELF core files (gcore, QEMU dump-guest-memory): the file bytes of their PT_LOAD segments are the
 * present pages, in address order. Only 64-bit little-endian ET_CORE files are taken.
 */
import { closeSync, readSync } from 'node:fs';
import { CliError } from '../cli/errors.js';
import { openInput, readRange } from './raw.js';
import { PAGE_SIZE, type ImageSource } from './source.js';

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

interface Segment { offset: number; vaddr: bigint; paddr: bigint; filesz: number; index: number }

/** True if the file starts with the ELF magic. */
export function isElf(path: string, size: number): boolean {
  if (size < 4) return false;
  return [...readAt(path, 0, 4, size)].every((b, i) => b === ELF_MAGIC[i]);
}

/** Checks an ELF core file and returns its loadable segments as one source. */
export function openElfCore(path: string, size: number): ImageSource {
  if (size < EHDR_SIZE) throw new CliError('input', `${path}: truncated ELF file (${size} bytes, shorter than the 64-byte ELF header)`);
  const header = new DataView(readAt(path, 0, EHDR_SIZE, size).buffer);
  checkHeader(path, header);
  const segments = loadSegments(path, header, size);
  if (segments.length === 0) throw new CliError('input', `${path}: ELF core file without any PT_LOAD segment that has bytes in the file`);
  const pages = segments.reduce((n, s) => n + Math.ceil(s.filesz / PAGE_SIZE), 0);
  return {
    name: path,
    pages,
    read: (sink) => { for (const s of segments) readRange(path, s.offset, s.filesz, sink); },
  };
}

function checkHeader(path: string, h: DataView): void {
  const cls = h.getUint8(4);
  if (cls !== ELFCLASS64) throw new CliError('input', `${path}: ${cls === 1 ? '32-bit' : `class ${cls}`} ELF file; only 64-bit (ELFCLASS64) core files are read`);
  const data = h.getUint8(5);
  if (data !== ELFDATA2LSB) throw new CliError('input', `${path}: ${data === 2 ? 'big-endian' : `data encoding ${data}`} ELF file; only little-endian core files are read`);
  const type = h.getUint16(16, true);
  if (type !== ET_CORE) throw new CliError('input', `${path}: ELF file of type ${ET_NAMES[type] ?? type}, not a core file (ET_CORE)`);
  const phentsize = h.getUint16(54, true);
  if (phentsize !== PHDR_SIZE) throw new CliError('input', `${path}: program header entries of ${phentsize} bytes (a 64-bit ELF file has ${PHDR_SIZE})`);
}

function loadSegments(path: string, h: DataView, size: number): Segment[] {
  const phoff = safeNumber(h.getBigUint64(32, true), path, 'e_phoff');
  const count = programHeaderCount(path, h, size);
  if (phoff + count * PHDR_SIZE > size) {
    throw new CliError('input', `${path}: truncated ELF core: its ${count} program headers end at byte ${phoff + count * PHDR_SIZE}, the file has ${size}`);
  }
  const table = new DataView(readAt(path, phoff, count * PHDR_SIZE, size).buffer);
  const segments: Segment[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * PHDR_SIZE;
    if (table.getUint32(at, true) !== PT_LOAD) continue;
    const offset = safeNumber(table.getBigUint64(at + 8, true), path, `segment ${i} p_offset`);
    const filesz = safeNumber(table.getBigUint64(at + 32, true), path, `segment ${i} p_filesz`);
    if (filesz === 0) continue;
    if (offset + filesz > size) {
      throw new CliError('input', `${path}: truncated ELF core: PT_LOAD segment ${i} needs bytes up to ${offset + filesz}, the file has ${size}`);
    }
    segments.push({ offset, filesz, index: i, vaddr: table.getBigUint64(at + 16, true), paddr: table.getBigUint64(at + 24, true) });
  }
  // ksmd walks an address space in ascending address order.
  return segments.sort((a, b) => cmp(a.vaddr, b.vaddr) || cmp(a.paddr, b.paddr) || a.index - b.index);
}

/** e_phnum, or (PN_XNUM) the real count kept in section header 0's sh_info. */
function programHeaderCount(path: string, h: DataView, size: number): number {
  const phnum = h.getUint16(56, true);
  if (phnum !== PN_XNUM) return phnum;
  const shoff = safeNumber(h.getBigUint64(40, true), path, 'e_shoff');
  if (shoff + SHDR_SIZE > size) throw new CliError('input', `${path}: truncated ELF core: section header 0 (which holds the program header count) is past the end`);
  return new DataView(readAt(path, shoff, SHDR_SIZE, size).buffer).getUint32(44, true);
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

function safeNumber(value: bigint, path: string, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CliError('input', `${path}: ELF ${field} ${value} is out of range`);
  return Number(value);
}

function readAt(path: string, position: number, length: number, size: number): Uint8Array {
  if (position + length > size) throw new CliError('input', `${path}: truncated ELF file (needs bytes up to ${position + length}, has ${size})`);
  const fd = openInput(path);
  try {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, position + got);
      if (n === 0) throw new CliError('input', `${path}: truncated ELF file (ends at byte ${position + got})`);
      got += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
