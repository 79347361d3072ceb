/**
 * `--scenario NAME --size SIZE`: a built-in scenario scaled to any size, with no file on disk and
 * never all of it in memory: each guest's pages are generated as bytes, a chunk at a time, when the
 * estimate reads them (and fingerprinted or written like any other input's).
 *
 * The shapes are the scenarios' recipes (workloads.ts) with each page's kind drawn on its own,
 * so any page can be made without the others:
 *   clones  8 guests booted from one base image: page i of a guest is zero with probability 0.10,
 *           the guest's own ("dirty") with probability 0.15, else base page i (the same in all);
 *   mixed   6 guests of three OS families: OS pages (12 % of one deb guest's updated), shared
 *           libraries, a shared data set (each page cached with probability 0.7), 0xFF pages, forked heap pairs, zero pages
 *           and unique data, in the recipe's proportions, placed by a fixed permutation of the
 *           guest's pages (a 4-round Feistel network walked back into range).
 * Bytes: a page is its 1024 32-bit words from xorshift128 started at (kind, a, b, c) — the page's
 * identity, its plan — after 8 discarded steps; distinct identities give distinct pages (the
 * generator's step is a bijection of its state, and 4 consecutive words are the state). Zero pages
 * are zeros and 0xFF pages 0xFF. The core makes the bytes from the plans (assembly/generate.ts),
 * so sharded runs make them on the worker threads that fingerprint them. The same name, size and page always give the same bytes; they are not the
 * oracle's SHAKE-256 bytes of the plain --scenario (which would take minutes per GiB).
 */
import { CliError } from '../cli/errors.js';
import { bytes } from '../cli/format.js';
import { CHUNK_BYTES, PAGE_SIZE, type ImageSource } from './source.js';
import { MAX_SPACE_PAGES } from '../backend.js';
import { PLAN_WORDS, sharedHasher } from '../fingerprint/hash.js';

/** Identities of page kinds (the generator's first state word; 0 is a fill). */
const KIND = { base: 1, dirty: 2, os: 3, update: 4, lib: 5, dataset: 6, forkheap: 7, anon: 8 } as const;

/** A 32-bit mix of integers (murmur3's finaliser over a running xor-multiply). */
function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A draw in [0, 1) for (parts…). */
const draw = (...parts: number[]): number => mix(...parts) / 2 ** 32;

/** What a page holds: zeros, 0xFF, or the generated page of an identity. */
type Page = { fill: 0 | 255 } | { kind: number; a: number; b: number; c: number };

/** Pages planned per call (the chunk the estimate reads at a time). */
const CHUNK_PAGES = CHUNK_BYTES / PAGE_SIZE;

/** Writes the plans (PLAN_WORDS words each: kind, a, b, c; kind 0 fills with byte a) of pages first..first+n-1. */
function planPages(pageAt: (i: number) => Page, first: number, n: number, plans: Uint32Array): void {
  for (let j = 0; j < n; j++) {
    const page = pageAt(first + j);
    const at = j * PLAN_WORDS;
    const fill = 'fill' in page;
    plans[at] = fill ? 0 : page.kind;
    plans[at + 1] = fill ? page.fill : page.a;
    plans[at + 2] = fill ? 0 : page.b;
    plans[at + 3] = fill ? 0 : page.c;
  }
}

/** Streams a guest of `pages` pages, page i being `pageAt(i)`: as plans, or as the bytes made from them. */
function guestSource(name: string, pages: number, pageAt: (i: number) => Page): ImageSource {
  const readPlans = (sink: (plans: Uint32Array, page: number) => void): void => {
    const plans = new Uint32Array(CHUNK_PAGES * PLAN_WORDS);
    for (let first = 0; first < pages; first += CHUNK_PAGES) {
      const n = Math.min(CHUNK_PAGES, pages - first);
      planPages(pageAt, first, n, plans);
      sink(plans.subarray(0, n * PLAN_WORDS), first);
    }
  };
  return {
    name,
    pages,
    readPlans,
    read(sink) {
      const buffer = new Uint8Array(CHUNK_BYTES);
      readPlans((plans, first) => {
        const bytes = buffer.subarray(0, (plans.length / PLAN_WORDS) * PAGE_SIZE);
        sharedHasher().generateInto(plans, bytes);
        sink(bytes, first);
      });
    },
  };
}

// ---- clones -------------------------------------------------------------------------------------

function clones(guests: number, pagesPerGuest: number): ImageSource[] {
  return Array.from({ length: guests }, (_, g) => guestSource(`clones/guest${g}`, pagesPerGuest, (i): Page => {
    const u = draw(1, g, i);
    if (u < 0.10) return { fill: 0 };
    if (u < 0.25) return { kind: KIND.dirty, a: g, b: i, c: 0 };
    return { kind: KIND.base, a: 0, b: i, c: 0 };
  }));
}

// ---- mixed --------------------------------------------------------------------------------------

/** A fixed permutation of 0..n-1: a 4-round Feistel network on the next power of 4, walked back into range. */
function permutation(n: number, salt: number): (i: number) => number {
  let half = 1;
  while (half * half < n) half *= 2;
  const mask = half - 1;
  return (i) => {
    let x = i;
    do {
      let l = Math.floor(x / half), r = x & mask;
      for (let round = 0; round < 4; round++) [l, r] = [r, (l ^ mix(salt, round, r)) & mask];
      x = l * half + r;
    } while (x >= n);
    return x;
  };
}

interface MixedGuest { os: number; zero: number; libs: number[]; dataset: boolean; update: number }
// The recipe's guests (workloads.ts, genMixed): os 0 deb, 1 rhel, 2 win; libs 0 libc, 1 jvm, 2 python.
const MIXED: MixedGuest[] = [
  { os: 0, zero: 0.20, libs: [0, 2], dataset: true, update: 0 },
  { os: 0, zero: 0.10, libs: [0, 1], dataset: false, update: 0 },
  { os: 0, zero: 0.15, libs: [0, 2], dataset: false, update: 0.12 },
  { os: 1, zero: 0.10, libs: [0, 1], dataset: true, update: 0 },
  { os: 1, zero: 0.25, libs: [0, 2], dataset: false, update: 0 },
  { os: 2, zero: 0.05, libs: [1], dataset: false, update: 0 },
];
/** Sizes as fractions of a guest (the recipe's 4096 pages). */
const OS_SHARE = [1024 / 4096, 1024 / 4096, 1536 / 4096];
const LIB_SHARE = [384 / 4096, 512 / 4096, 256 / 4096];
const DATASET_SHARE = 600 / 4096;
const FILL_SHARE = 16 / 4096;
const FORKED_SHARE = 48 / 4096;

function mixed(n: number): ImageSource[] {
  return MIXED.map((cfg, g) => {
    // The guest's segments, in the recipe's order, then placed by the permutation.
    const segments: Array<[number, (j: number) => Page]> = [];
    segments.push([Math.round(OS_SHARE[cfg.os] * n), (j) => (draw(2, g, j) < cfg.update
      ? { kind: KIND.update, a: g, b: j, c: 0 } : { kind: KIND.os, a: cfg.os, b: j, c: 0 })]);
    for (const lib of cfg.libs) segments.push([Math.round(LIB_SHARE[lib] * n), (j) => ({ kind: KIND.lib, a: lib, b: j, c: 0 })]);
    if (cfg.dataset) {
      // The data set: each of its pages cached by the guest with probability 0.7 (else the slot holds the guest's own data).
      segments.push([Math.round(DATASET_SHARE * n), (j) => (draw(4, g, j) < 0.7
        ? { kind: KIND.dataset, a: 0, b: j, c: 0 } : { kind: KIND.anon, a: g, b: j, c: 2 })]);
    }
    segments.push([Math.round(FILL_SHARE * n), () => ({ fill: 255 })]);
    segments.push([2 * Math.round(FORKED_SHARE * n), (j) => ({ kind: KIND.forkheap, a: g, b: j >> 1, c: 0 })]);
    segments.push([Math.round(cfg.zero * n), () => ({ fill: 0 })]);
    const fixed = segments.reduce((sum, [count]) => sum + count, 0);
    segments.push([Math.max(0, n - fixed), (j) => ({ kind: KIND.anon, a: g, b: j, c: 0 })]);
    const place = permutation(n, mix(3, g));
    return guestSource(`mixed/guest${g}`, n, (i) => {
      let k = place(i);
      for (const [count, page] of segments) {
        if (k < count) return page(k);
        k -= count;
      }
      return { kind: KIND.anon, a: g, b: k, c: 1 }; // not reached: the segments cover n
    });
  });
}

// ---- the command line ---------------------------------------------------------------------------

/**
 * The scalable scenarios: their guests at least, whether more guests of the same recipe may be
 * added (each guest is one address space, of at most MAX_SPACE_PAGES pages: 2 GiB), and the maker.
 */
const SCALED: Readonly<Record<string, { guests: number; moreGuests: boolean; make: (guests: number, pagesPerGuest: number) => ImageSource[] }>> = {
  clones: { guests: 8, moreGuests: true, make: clones },
  mixed: { guests: 6, moreGuests: false, make: (_guests, pages) => mixed(pages) },
};

/** The guests of scenario `name` scaled to `size` bytes in all (each guest a whole number of pages). */
export function openScaledScenario(name: string, size: number): ImageSource[] {
  const scenario = Object.hasOwn(SCALED, name) ? SCALED[name] : undefined;
  if (!scenario) throw new CliError('input', `--scenario ${name}: no such scenario (known: ${Object.keys(SCALED).join(', ')})`);
  const pages = Math.floor(size / PAGE_SIZE);
  // clones: 8 guests, more of them (booted from the same image) where 8 would pass a space's size.
  const guests = scenario.moreGuests ? Math.max(scenario.guests, Math.ceil(pages / MAX_SPACE_PAGES)) : scenario.guests;
  const pagesPerGuest = Math.floor(pages / guests);
  if (pagesPerGuest < 1) throw new CliError('input', `--size ${bytes(size)}: too small for the ${scenario.guests} guests of ${name} (at least ${bytes(scenario.guests * PAGE_SIZE)}, a page each)`);
  if (pagesPerGuest > MAX_SPACE_PAGES) throw new CliError('input', `--size ${bytes(size)}: the ${guests} guests of ${name} would hold ${pagesPerGuest} pages each, more than an address space holds (${MAX_SPACE_PAGES} pages, 2 GiB)`);
  return scenario.make(guests, pagesPerGuest);
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/** --size: bytes, or a number with K, M, G, T or P (binary: 64G = 64 GiB; KiB… and KB… are read the same). */
export function parseSize(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]?)(?:i?B)?$/i.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new CliError('input', `--size ${text}: not a size (give bytes or a number with K, M, G, T or P, e.g. 64G)`);
  return bytes;
}
