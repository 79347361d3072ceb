/**
 * Workloads for the benches: guests made of 4 KiB pages, reproducible byte for byte. Which page
 * of a guest is shared, its own or zero comes from the workloads' one generator
 * (src/estimate/workloads.ts: the oracle's recipes, so at the oracle's sizes the layout is
 * gen.py's); the bytes are made here, fast enough for gigabytes.
 *
 * Page contents come from AES-128-CTR over zeros (native, a few GB/s): page `i` of stream `s` is
 * the key stream at block `i * 256` with IV = s ‖ 0. Equal (stream, index) ⇔ equal page, and any
 * two different pages differ in their first bytes (as random pages do).
 */
import { createCipheriv } from 'node:crypto';
import { PAGE_SIZE as PAGE } from '../src/backend.js';
import type { AddressSpace, Ksm } from '../src/index.js';
import { CLONE, clonesLayout, zerosLayout } from '../src/estimate/workloads.js';

export { PAGE };

const KEY = new Uint8Array(16).fill(0x6b); // fixed: the workloads are the same on every run
/** Zeros to encrypt, 64 KiB at a time: small enough that the cipher's output buffers are reused heap memory. */
const ZEROS = new Uint8Array(1 << 16);

/** Fills `out` (a multiple of 4096 bytes) with pages first..first+n-1 of stream `stream`. */
export function fillPages(out: Uint8Array, stream: number, first: number): Uint8Array {
  const iv = new Uint8Array(16);
  const view = new DataView(iv.buffer);
  view.setUint32(4, stream >>> 0);
  view.setUint32(8, Math.floor((first * 256) / 2 ** 32));
  view.setUint32(12, (first * 256) >>> 0);
  const cipher = createCipheriv('aes-128-ctr', KEY, iv);
  for (let at = 0; at < out.length; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, out.length - at);
    out.set(cipher.update(ZEROS.subarray(0, n)), at);
  }
  return out;
}

export const randomPage = (stream: number, index: number): Uint8Array => fillPages(new Uint8Array(PAGE), stream, index);

/** A well-mixed 32-bit hash of two integers (for choosing which pages are zero, dirty, …). */
export function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
const fraction = (a: number, b: number) => mix(a, b) / 2 ** 32;

/** What one page of a guest holds. */
export type PageSpec =
  | { kind: 'random'; stream: number; index: number }
  | { kind: 'zero' }
  | { kind: 'prefix'; suffix: number };

export interface Workload {
  name: string;
  description: string;
  guests: number;
  pagesPerGuest: number;
  /** The content of page `vpn` of guest `g`. */
  page(g: number, vpn: number): PageSpec;
}

/** Streams: 1 = the shared base image, 100+g = guest g's own pages, 2 = the prefix. */
const BASE = 1;
const OWN = 100;
const PREFIX_STREAM = 2;

/** Cloned guests (the oracle's "clones"): one base image, per guest 15 % own pages and 10 % zero pages, placed as gen.py places them. */
export function clones(totalPages: number, guests = 8): Workload {
  const pagesPerGuest = Math.max(1, Math.floor(totalPages / guests));
  const layout = clonesLayout({ guests, pages: pagesPerGuest, dirty: 0.15, zero: 0.10, select: (g) => [1, 'clones', g, 'select'] });
  return {
    name: 'clones', guests, pagesPerGuest,
    description: `${guests} guests booted from one image: 15 % of each guest's pages its own, 10 % zero`,
    page(g, vpn) {
      const kind = layout[g][vpn];
      if (kind === CLONE.zero) return { kind: 'zero' };
      return { kind: 'random', stream: kind === CLONE.dirty ? OWN + g : BASE, index: vpn };
    },
  };
}

/** Every page different (the unstable tree at its largest; nothing merges). */
export function unique(totalPages: number, guests = 4): Workload {
  const pagesPerGuest = Math.max(1, Math.floor(totalPages / guests));
  return {
    name: 'unique', guests, pagesPerGuest, description: `${guests} guests, every page different`,
    page: (g, vpn) => ({ kind: 'random', stream: OWN + g, index: vpn }),
  };
}

/** 60 % zero pages, the rest unique (the oracle's "zeros"; the zero pages placed as gen.py places them). */
export function zeros(totalPages: number, guests = 4): Workload {
  const pagesPerGuest = Math.max(1, Math.floor(totalPages / guests));
  const isZero = zerosLayout(guests, pagesPerGuest, 0.6, (g) => [1, 'zeros', g]);
  return {
    name: 'zeros', guests, pagesPerGuest, description: `${guests} guests, 60 % zero pages, the rest unique`,
    page: (g, vpn) => (isZero[g][vpn] ? { kind: 'zero' } : { kind: 'random', stream: OWN + g, index: vpn }),
  };
}

/**
 * Every page shares its first 4088 bytes; the last 8 differ (the memcmp worst case: every tree
 * comparison reads 4088 equal bytes). About 1 % of the suffixes appear twice.
 */
export function prefix(totalPages: number, guests = 4): Workload {
  const pagesPerGuest = Math.max(1, Math.floor(totalPages / guests));
  return {
    name: 'prefix', guests, pagesPerGuest,
    description: `${guests} guests, all pages share the first 4088 bytes and differ in the last 8 (1 % duplicated)`,
    page(g, vpn) {
      const n = g * pagesPerGuest + vpn;
      // A page whose hash says so repeats the suffix of a page of the previous guest.
      if (g > 0 && fraction(g + 13, vpn) < 0.01) return { kind: 'prefix', suffix: n - pagesPerGuest };
      return { kind: 'prefix', suffix: n };
    },
  };
}

/**
 * The fleet of issue 11: 7 guests, 325 MiB in all (83230 pages), booted from one image as
 * clones() makes them (15 % own pages, 10 % zero). Large enough that no cache holds it.
 */
export function fleet(totalPages = 83230, guests = 7): Workload {
  return { ...clones(totalPages, guests), name: 'fleet', description: `the ${guests}-guest fleet: ${clones(totalPages, guests).description}` };
}

/**
 * Two identical guests of distinct pages: every page merges with its twin, one stable node per two
 * tracked pages (the most stable nodes per tracked page any workload has).
 */
export function twins(totalPages: number): Workload {
  const pagesPerGuest = Math.max(1, Math.floor(totalPages / 2));
  return {
    name: 'twins', guests: 2, pagesPerGuest, description: 'two identical guests, every page distinct within a guest',
    page: (_g, vpn) => ({ kind: 'random', stream: BASE, index: vpn }),
  };
}

export const WORKLOADS = { clones, unique, zeros, prefix } as const;
export type WorkloadName = keyof typeof WORKLOADS;

const prefixBytes = fillPages(new Uint8Array(PAGE), PREFIX_STREAM, 0);

/** Writes pages [first, first + n) of guest `g` into `out` (n × 4096 bytes). */
export function renderGuest(w: Workload, g: number, first: number, out: Uint8Array): Uint8Array {
  const n = out.length / PAGE;
  // Runs of random pages of one stream with consecutive indexes are filled in one cipher call.
  let run = -1, runStream = 0, runIndex = 0;
  const flush = (end: number) => {
    if (run >= 0) fillPages(out.subarray(run * PAGE, end * PAGE), runStream, runIndex);
    run = -1;
  };
  for (let i = 0; i < n; i++) {
    const spec = w.page(g, first + i);
    if (spec.kind === 'random') {
      if (run >= 0 && spec.stream === runStream && spec.index === runIndex + (i - run)) continue;
      flush(i);
      run = i; runStream = spec.stream; runIndex = spec.index;
      continue;
    }
    flush(i);
    const page = out.subarray(i * PAGE, (i + 1) * PAGE);
    if (spec.kind === 'zero') page.fill(0);
    else {
      page.set(prefixBytes.subarray(0, PAGE - 8));
      new DataView(page.buffer, page.byteOffset + PAGE - 8, 8).setBigUint64(0, BigInt(spec.suffix));
    }
  }
  flush(n);
  return out;
}

/** One guest's whole image (for files the kernel maps, or small guests). */
export const guestImage = (w: Workload, g: number): Uint8Array => renderGuest(w, g, 0, new Uint8Array(w.pagesPerGuest * PAGE));

const CHUNK_PAGES = 4096; // 16 MiB at a time: no guest-sized buffers in JS

/** Creates the workload's guests in `ksm` (every page written, all mergeable), in guest order. */
export function loadWorkload(ksm: Ksm, w: Workload): AddressSpace[] {
  const chunk = new Uint8Array(Math.min(CHUNK_PAGES, w.pagesPerGuest) * PAGE);
  const spaces: AddressSpace[] = [];
  for (let g = 0; g < w.guests; g++) {
    const space = ksm.createSpace({ name: `${w.name}${g}`, pages: w.pagesPerGuest });
    for (let first = 0; first < w.pagesPerGuest; first += CHUNK_PAGES) {
      const n = Math.min(CHUNK_PAGES, w.pagesPerGuest - first);
      space.write(first, renderGuest(w, g, first, chunk.subarray(0, n * PAGE)));
    }
    space.mergeable();
    spaces.push(space);
  }
  return spaces;
}

/** Pages of the workload in total, and in MiB. */
export const totalPages = (w: Workload): number => w.guests * w.pagesPerGuest;
export const mib = (pages: number): number => (pages * PAGE) / 2 ** 20;
