/**
 * Workloads for the kernel conformance test: guests as lists of page names (src/pagespec.ts), and
 * the knobs to run them under; the shapes shared with the oracle's scenarios and the benches come
 * from their one generator (src/estimate/workloads.ts). Small (a few hundred to a few thousand
 * pages per guest) so the whole test stays within a couple of minutes.
 */
import { h64, ranked, ZERO } from '../../src/estimate/content.js';
import { clonesPages, uniquePages, zerosPages } from '../../src/estimate/workloads.js';
import type { KernelKnobs } from './harness.js';

export interface Workload {
  name: string;
  guests: string[][];
  knobs: KernelKnobs;
  maxScans: number;
  stableScans: number;
}

/** Chain pruning is time based; "never" within a run (and 0: at every search) keeps both sides deterministic. */
export const PRUNE_NEVER = 600_000;

const SEED = 'conformance';

/** `guests` guests of `n` pages from one base image, with `dirty` unique and `zero` zero pages each. */
const clones = (tag: string, guests: number, n: number, dirty: number, zero: number): string[][] =>
  clonesPages({ guests, pages: n, dirty, zero, tag, select: (g) => [SEED, tag, g] });

const unique = uniquePages;

/** Zero pages (a fraction of each guest), the rest unique. */
const zeros = (tag: string, guests: number, n: number, fraction: number): string[][] => zerosPages(tag, guests, n, fraction, (g) => [SEED, tag, g]);

/** Content classes of given sizes scattered over all guests' pages; the rest unique. */
function classes(tag: string, guests: number, n: number, sizes: number[]): string[][] {
  const slots = ranked(guests * n, SEED, tag, 'slots');
  const assign = new Map<number, string>();
  let at = 0;
  sizes.forEach((size, c) => { for (const s of slots.slice(at, at + size)) assign.set(s, `r:${tag}/class${c}`); at += size; });
  return Array.from({ length: guests }, (_, g) => Array.from({ length: n }, (_, i) => assign.get(g * n + i) ?? `r:${tag}/g${g}/u${i}`));
}

/** Pages equal but for their last 8 bytes; some exact pairs and quadruples among them. */
function prefix(tag: string, guests: number, n: number, pairs: number, quads: number): string[][] {
  const slots = ranked(guests * n, SEED, tag, 'dups');
  const suffix = new Map<number, number>();
  let at = 0;
  for (let j = 0; j < pairs + quads; j++) {
    const size = j < pairs ? 2 : 4;
    for (const s of slots.slice(at, at + size)) suffix.set(s, 1_000_000 + j);
    at += size;
  }
  return Array.from({ length: guests }, (_, g) => Array.from({ length: n }, (_, i) => `p:${suffix.get(g * n + i) ?? g * n + i}`));
}

/** OS images, shared libraries, 0xFF pages, in-guest duplicate pairs, zero pages and unique data, shuffled. */
function mix(tag: string): string[][] {
  const os = [['a', 300], ['a', 300], ['b', 200], ['c', 250]] as const;
  const libs = [['libc', 120, [0, 1, 2]], ['jvm', 90, [1, 3]], ['py', 60, [0, 2, 3]]] as const;
  const zerosOf = [80, 20, 150, 40];
  return os.map(([family, size], g) => {
    const pages: string[] = [];
    for (let j = 0; j < size; j++) pages.push(`r:${tag}/os/${family}/${j}`);
    for (const [lib, n, users] of libs) if ((users as readonly number[]).includes(g)) for (let j = 0; j < n; j++) pages.push(`r:${tag}/lib/${lib}/${j}`);
    for (let j = 0; j < 12; j++) pages.push('f:255');
    for (let j = 0; j < 20; j++) pages.push(`r:${tag}/g${g}/heap/${j}`, `r:${tag}/g${g}/heap/${j}`);
    for (let j = 0; j < zerosOf[g]; j++) pages.push(ZERO);
    for (let j = 0; j < 150 + 40 * g; j++) pages.push(`r:${tag}/g${g}/anon/${j}`);
    return ranked(pages.length, SEED, tag, g, 'layout').map((k) => pages[k]);
  });
}

const base = { max_page_sharing: 256, use_zero_pages: 0, smart_scan: 1, stable_node_chains_prune_millisecs: PRUNE_NEVER, merge_across_nodes: 1 };
const clonesImages = clones('clones', 4, 1024, 0.15, 0.10);
const smallClasses = classes('small', 2, 300, [2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25]);
const zeroHeavy = zeros('zeros', 3, 800, 0.6);
const mixImages = mix('mix');

export const WORKLOADS: Workload[] = [
  { name: 'clones, one batch per scan', guests: clonesImages, knobs: { ...base, pages_to_scan: 20000 }, maxScans: 12, stableScans: 3 },
  { name: 'clones, pages_to_scan = pages (2 batches per scan)', guests: clonesImages, knobs: { ...base, pages_to_scan: 4096 }, maxScans: 8, stableScans: 3 },
  { name: 'clones, pages_to_scan 100, smart_scan 0', guests: clonesImages, knobs: { ...base, pages_to_scan: 100, smart_scan: 0 }, maxScans: 8, stableScans: 3 },
  { name: 'all unique, through the smart_scan skip rounds', guests: unique('unique', 3, 600), knobs: { ...base, pages_to_scan: 20000 }, maxScans: 15, stableScans: 14 },
  { name: 'all unique, smart_scan 0', guests: unique('unique', 3, 600), knobs: { ...base, pages_to_scan: 20000, smart_scan: 0 }, maxScans: 6, stableScans: 3 },
  { name: 'zero-heavy, use_zero_pages 0 (a chain of zero pages)', guests: zeroHeavy, knobs: { ...base, pages_to_scan: 20000 }, maxScans: 10, stableScans: 3 },
  { name: 'zero-heavy, use_zero_pages 1', guests: zeroHeavy, knobs: { ...base, pages_to_scan: 20000, use_zero_pages: 1 }, maxScans: 10, stableScans: 3 },
  { name: 'zero-heavy, use_zero_pages 1, pages_to_scan 333', guests: zeroHeavy, knobs: { ...base, pages_to_scan: 333, use_zero_pages: 1 }, maxScans: 10, stableScans: 3 },
  { name: 'classes beyond max_page_sharing 256 (x600, x513, x257, x256)', guests: classes('hot', 3, 1024, [600, 513, 257, 256]), knobs: { ...base, pages_to_scan: 500 }, maxScans: 10, stableScans: 3 },
  { name: 'small classes, max_page_sharing 2', guests: smallClasses, knobs: { ...base, pages_to_scan: 20000, max_page_sharing: 2 }, maxScans: 10, stableScans: 3 },
  { name: 'small classes, max_page_sharing 3, pruning at every search', guests: smallClasses, knobs: { ...base, pages_to_scan: 20000, max_page_sharing: 3, stable_node_chains_prune_millisecs: 0 }, maxScans: 10, stableScans: 3 },
  { name: 'small classes, max_page_sharing 3, pages_to_scan 50', guests: smallClasses, knobs: { ...base, pages_to_scan: 50, max_page_sharing: 3 }, maxScans: 10, stableScans: 3 },
  { name: 'pages differing only in their last bytes', guests: prefix('prefix', 3, 700, 30, 10), knobs: { ...base, pages_to_scan: 20000 }, maxScans: 10, stableScans: 3 },
  { name: 'a mix, pages_to_scan 37, use_zero_pages 1', guests: mixImages, knobs: { ...base, pages_to_scan: 37, use_zero_pages: 1 }, maxScans: 10, stableScans: 3 },
  { name: 'a mix, smart_scan 0, max_page_sharing 4', guests: mixImages, knobs: { ...base, pages_to_scan: 1000, smart_scan: 0, max_page_sharing: 4 }, maxScans: 10, stableScans: 3 },
  { name: 'twenty small guests, merge_across_nodes 0, pages_to_scan 7', guests: clones('small-guests', 20, 30, 0.2, 0.1), knobs: { ...base, pages_to_scan: 7, merge_across_nodes: 0 }, maxScans: 10, stableScans: 3 },
  { name: 'classes beyond max_page_sharing 2, pruning at every search, pages_to_scan 64', guests: classes('hot2', 2, 400, [120, 61, 33, 8, 5]), knobs: { ...base, pages_to_scan: 64, max_page_sharing: 2, stable_node_chains_prune_millisecs: 0 }, maxScans: 10, stableScans: 3 },
  { name: 'classes around multiples of max_page_sharing 5, smart_scan 0', guests: classes('mps5', 3, 200, [4, 5, 6, 9, 10, 11, 15, 16, 21, 26]), knobs: { ...base, pages_to_scan: 20000, max_page_sharing: 5, smart_scan: 0 }, maxScans: 10, stableScans: 3 },
  { name: 'zero pages with use_zero_pages 1 and max_page_sharing 2', guests: zeros('zeros2', 2, 500, 0.5).map((g, i) => [...g, ...Array.from({ length: 9 }, () => 'r:zeros2/shared'), `r:zeros2/g${i}/x`]), knobs: { ...base, pages_to_scan: 20000, use_zero_pages: 1, max_page_sharing: 2 }, maxScans: 10, stableScans: 3 },
  ...Array.from({ length: Number(process.env.KSM_CONFORMANCE_RANDOM ?? 6) }, (_, i) => randomWorkload(i)),
];

/**
 * A workload drawn from a seed: 1-5 guests of 20-420 pages mixing zero pages, fills, a few dozen
 * repeated classes (skewed, some large), near-identical prefix pages and unique pages, under
 * knobs drawn from small pages_to_scan and max_page_sharing values. The same seed gives the same
 * workload; KSM_CONFORMANCE_RANDOM=N runs N of them.
 */
export function randomWorkload(seed: number): Workload {
  let state = h64(SEED, 'random', seed);
  const pick = (n: number) => { state = h64(state); return Number(state % BigInt(n)); };
  const guestCount = 1 + pick(5);
  const classCount = 1 + pick(40);
  const guests = Array.from({ length: guestCount }, (_, g) => Array.from({ length: 20 + pick(400) }, (_, i) => {
    const r = pick(100);
    if (r < 15) return ZERO;
    if (r < 20) return `f:${pick(3)}`;
    if (r < 60) return `r:random${seed}/c${pick(classCount) ** 2 % classCount}`;
    if (r < 70) return `p:${pick(6)}`;
    return `r:random${seed}/g${g}/${i}`;
  }));
  const knobs = {
    ...base,
    pages_to_scan: [1, 3, 17, 64, 20000][pick(5)],
    max_page_sharing: [2, 3, 4, 6, 256][pick(5)],
    use_zero_pages: pick(2),
    smart_scan: pick(2),
    stable_node_chains_prune_millisecs: pick(2) ? 0 : PRUNE_NEVER,
  };
  return { name: `random workload ${seed} (${guestCount} guests, ${JSON.stringify(knobs).replace(/"/g, '')})`, guests, knobs, maxScans: 12, stableScans: 4 };
}
