/**
 * The workloads' pages, each made by one generator here: which page of which guest holds what,
 * as page names (src/pagespec.ts turns a name into its bytes). The recipes are the kernel
 * oracle's (gen.py), at any scale, so that a workload made here is byte for byte the one the real
 * ksmd was run on. The estimate's --scenario, the benches and the conformance tests take their
 * guests from here; a bench that needs gigabytes fast takes the layout (clonesLayout, zerosLayout)
 * and fills the pages its own way.
 */
import { ranked, ZERO } from './content.js';

/** Python's round(): a half goes to the even neighbour (gen.py's page counts round so). */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** gen.py's npages: a page count at a scale, at least 1. */
export const npages = (x: number, scale: number): number => Math.max(1, pyRound(x * scale));

/** The ranking salt that places guest g's special pages (gen.py: seed, scenario, g, …). */
export type Select = (g: number) => Array<string | number>;

/** What a page of a cloned guest holds. */
export const CLONE = { base: 0, zero: 1, dirty: 2 } as const;

export interface ClonesShape {
  guests: number;
  /** Pages per guest. */
  pages: number;
  /** Fraction of each guest's pages overwritten with its own data (gen.py: 0.15). */
  dirty: number;
  /** Fraction of each guest's pages that are zero (gen.py: 0.10). */
  zero: number;
  select: Select;
}

/**
 * Guests booted from one base image: page i of every guest is base page i, except the guest's own
 * zero pages and dirty pages, the first of its pages in the ranking. Each guest's page kinds (CLONE).
 */
export function clonesLayout({ guests, pages, dirty, zero, select }: ClonesShape): Uint8Array[] {
  const nz = pyRound(zero * pages);
  const nd = pyRound(dirty * pages);
  return Array.from({ length: guests }, (_, g) => {
    const order = ranked(pages, ...select(g));
    const kind = new Uint8Array(pages);
    for (const i of order.slice(0, nz)) kind[i] = CLONE.zero;
    for (const i of order.slice(nz, nz + nd)) kind[i] = CLONE.dirty;
    return kind;
  });
}

/** The cloned guests as page names: Z, r:TAG/gG/dirty/I (the guest's own), r:TAG/base/I. */
export function clonesPages(shape: ClonesShape & { tag: string }): string[][] {
  const { tag } = shape;
  return clonesLayout(shape).map((kind, g) => Array.from(kind, (k, i) =>
    (k === CLONE.zero ? ZERO : k === CLONE.dirty ? `r:${tag}/g${g}/dirty/${i}` : `r:${tag}/base/${i}`)));
}

/** gen.py's clones: 8 guests of 2048 pages (at scale 1), 15 % dirty, 10 % zero. */
export const genClones = (seed: number, scale = 1): string[][] =>
  clonesPages({ guests: 8, pages: npages(2048, scale), dirty: 0.15, zero: 0.10, tag: 'clones', select: (g) => [seed, 'clones', g, 'select'] });

/** Every page different: r:TAG/gG/I (gen.py's unique with TAG "unique"). */
export const uniquePages = (tag: string, guests: number, pages: number): string[][] =>
  Array.from({ length: guests }, (_, g) => Array.from({ length: pages }, (_, i) => `r:${tag}/g${g}/${i}`));

/** Which pages of each guest are zero: the first `zero` of its pages in the ranking. */
export function zerosLayout(guests: number, pages: number, zero: number, select: Select): Uint8Array[] {
  const nz = pyRound(zero * pages);
  return Array.from({ length: guests }, (_, g) => {
    const isZero = new Uint8Array(pages);
    for (const i of ranked(pages, ...select(g)).slice(0, nz)) isZero[i] = 1;
    return isZero;
  });
}

/** Zero pages, the rest unique: Z or r:TAG/gG/I (gen.py's zeros with TAG "zeros", zero 0.6). */
export const zerosPages = (tag: string, guests: number, pages: number, zero: number, select: Select): string[][] =>
  zerosLayout(guests, pages, zero, select).map((isZero, g) => Array.from(isZero, (z, i) => (z ? ZERO : `r:${tag}/g${g}/${i}`)));

interface MixedGuest { os: 'deb' | 'rhel' | 'win'; zero: number; libs: Array<keyof typeof LIBS>; dataset: boolean; update?: number }

const MIXED: MixedGuest[] = [
  { os: 'deb', zero: 0.20, libs: ['libc', 'python'], dataset: true },
  { os: 'deb', zero: 0.10, libs: ['libc', 'jvm'], dataset: false },
  { os: 'deb', zero: 0.15, libs: ['libc', 'python'], dataset: false, update: 0.12 },
  { os: 'rhel', zero: 0.10, libs: ['libc', 'jvm'], dataset: true },
  { os: 'rhel', zero: 0.25, libs: ['libc', 'python'], dataset: false },
  { os: 'win', zero: 0.05, libs: ['jvm'], dataset: false },
];
const OS_PAGES = { deb: 1024, rhel: 1024, win: 1536 };
const LIBS = { libc: 384, jvm: 512, python: 256 };
const DATASET = 600;
const DATASET_CACHED = 0.7;
const FILL_PAGES = 16;
const FORKED_PAIRS = 48;

/** gen.py's mixed: six guests of three OS families with shared libraries, a shared data set, 0xFF pages, forked heaps, zero pages and unique data, shuffled. */
export function genMixed(seed: number, scale = 1): string[][] {
  const n = npages(4096, scale);
  return MIXED.map((cfg, g) => {
    const pages: string[] = [];
    const nb = npages(OS_PAGES[cfg.os], scale);
    const updated = new Set(cfg.update ? ranked(nb, seed, 'mixed', g, 'update').slice(0, pyRound(cfg.update * nb)) : []);
    for (let j = 0; j < nb; j++) pages.push(updated.has(j) ? `r:mixed/g${g}/${cfg.os}-update/${j}` : `r:mixed/os/${cfg.os}/${j}`);
    for (const lib of cfg.libs) for (let j = 0; j < npages(LIBS[lib], scale); j++) pages.push(`r:mixed/lib/${lib}/${j}`);
    if (cfg.dataset) {
      const nds = npages(DATASET, scale);
      const cached = ranked(nds, seed, 'mixed', g, 'dataset').slice(0, pyRound(DATASET_CACHED * nds)).sort((a, b) => a - b);
      for (const j of cached) pages.push(`r:mixed/dataset/${j}`);
    }
    for (let j = 0; j < npages(FILL_PAGES, scale); j++) pages.push('f:255');
    for (let j = 0; j < npages(FORKED_PAIRS, scale); j++) pages.push(`r:mixed/g${g}/forkheap/${j}`, `r:mixed/g${g}/forkheap/${j}`);
    const nz = pyRound(cfg.zero * n);
    for (let j = 0; j < nz; j++) pages.push(ZERO);
    for (let j = 0; pages.length < n; j++) pages.push(`r:mixed/g${g}/anon/${j}`);
    const layout = ranked(n, seed, 'mixed', g, 'layout'); // physical memory is fragmented
    return layout.map((k) => pages[k]);
  });
}
