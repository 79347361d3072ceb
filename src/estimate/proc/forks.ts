/**
 * Processes that map the same physical page: after fork(), parent and child share every anonymous
 * page until one of them writes it. ksmd never merges a page with itself, so such a page is one
 * frame mapped twice, as the library's fork() makes it. The plan: each process whose frames (same
 * PFN at the same address) are shared with an earlier process becomes a fork of the earlier one
 * it shares most with; its own pages are written where its frame differs, and the parent's pages
 * it does not map are dropped. Spaces of one fork family share one layout: the union of their
 * pages' addresses. Pages the real KSM already merged are shared by content, not by fork, and are
 * read as ordinary pages (the estimate starts from scratch).
 */
import { hugeLayout } from './huge.js';
import { PAGE_KSM, type PageSet } from './pagemap.js';
import { indexFrames } from './frame-index.js';

export interface Placement {
  /** Index of the earlier process this one is a fork of, if any. */
  parent: number | undefined;
  /** Page index in the space of each page of the set (same order as its addresses). */
  index: ArrayLike<number>;
  /** Pages of the set to write (indices into its addresses). */
  write: ArrayLike<number>;
  /** Space page indices of the parent's pages this process does not map. */
  drop: number[];
  /** Size of the space in pages (the family's layout). */
  spacePages: number;
  /** Pages left as the parent's frame (one frame mapped twice). */
  sharedWithParent: number;
  /** Space page indices where a whole transparent huge page starts (processes outside fork families). */
  hugeSpans: number[];
}

/** Places every page set; without PFNs (not root) nothing is shared and every page is written. */
export function placePages(sets: readonly PageSet[]): Placement[] {
  const parents = chooseParents(sets);
  const root = (i: number): number => (parents[i] === undefined ? i : root(parents[i]!));
  const layouts = new Map<number, number[]>();
  sets.forEach((set, i) => {
    if (parents[i] === undefined && !parents.includes(i)) return; // a family of one: its own addresses
    const r = root(i);
    layouts.set(r, (layouts.get(r) ?? []).concat(Array.from(set.addresses)));
  });
  for (const [r, all] of layouts) layouts.set(r, [...new Set(all)].sort((a, b) => a - b));
  return sets.map((set, i) => {
    const layout = layouts.get(root(i));
    const parent = parents[i];
    if (!layout) { // a family of one: its own addresses, huge pages on aligned spans
      const { index, spacePages, hugeSpans } = hugeLayout(set.addresses, set.flags);
      return { parent, index, write: identity(set.addresses.length), drop: [], spacePages, sharedWithParent: 0, hugeSpans };
    }
    // (A fork family shares one packed layout; its huge pages are held as ordinary pages.)
    const index = indexIn(layout, set.addresses);
    if (parent === undefined) return { parent, index, write: identity(set.addresses.length), drop: [], spacePages: layout.length, sharedWithParent: 0, hugeSpans: [] };
    const { write, drop } = differences(sets[parent], set, layout);
    return { parent, index, write, drop, spacePages: layout.length, sharedWithParent: set.addresses.length - write.length, hugeSpans: [] };
  });
}

/**
 * For each set, the earlier set it shares the most frames with (same PFN at the same address), if
 * any. Each frame remembers its first and its latest owner, both credited: after a chain of forks
 * (A, then B from A, then C from B) C shares most with B; after siblings (B and C both from A) C
 * shares most with A. Numbers, not objects: a whole host has millions of pages.
 */
function chooseParents(sets: readonly PageSet[]): Array<number | undefined> {
  if (sets.filter((set) => set.pfns).length < 2) return sets.map(() => undefined); // nothing to share a frame with
  const frames = indexFrames(sets.flatMap((set) => (set.pfns ? [set.pfns] : [])));
  // Per frame (by its position): its first and its latest owner, each as set * 2^32 + page.
  const first = new Float64Array(frames.ascending.length).fill(-1);
  const latest = new Float64Array(frames.ascending.length);
  const addressOf = (owner: number) => sets[Math.floor(owner / 2 ** 32)].addresses[owner % 2 ** 32];
  return sets.map((set, i) => {
    if (!set.pfns) return undefined;
    const shared = new Map<number, number>();
    const credit = (owner: number, address: number) => {
      const j = Math.floor(owner / 2 ** 32);
      if (j !== i && addressOf(owner) === address) shared.set(j, (shared.get(j) ?? 0) + 1);
    };
    for (let k = 0; k < set.addresses.length; k++) {
      if (set.flags![k] & PAGE_KSM) continue;
      const me = i * 2 ** 32 + k;
      const slot = frames.positionOf(set.pfns[k]);
      if (first[slot] < 0) {
        first[slot] = latest[slot] = me;
        continue;
      }
      credit(first[slot], set.addresses[k]);
      if (latest[slot] !== first[slot]) credit(latest[slot], set.addresses[k]);
      latest[slot] = me;
    }
    let best: number | undefined;
    for (const [j, n] of shared) if (best === undefined || n > shared.get(best)! || (n === shared.get(best)! && j > best)) best = j;
    return best;
  });
}

/** 0, 1, … n-1. */
function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** Positions of `addresses` (ascending) in `layout` (ascending, a superset). */
function indexIn(layout: readonly number[], addresses: Iterable<number>): number[] {
  const out: number[] = [];
  let j = 0;
  for (const a of addresses) {
    while (layout[j] < a) j++;
    out.push(j);
  }
  return out;
}

/** What the child writes (its frame differs from the parent's there) and drops (the parent maps it, the child not). */
function differences(parent: PageSet, child: PageSet, layout: readonly number[]): { write: number[]; drop: number[] } {
  const write: number[] = [];
  const drop: number[] = [];
  let p = 0;
  child.addresses.forEach((address, k) => {
    while (p < parent.addresses.length && parent.addresses[p] < address) drop.push(parent.addresses[p++]);
    const same = p < parent.addresses.length && parent.addresses[p] === address;
    if (!same || parent.pfns![p] !== child.pfns![k] || (parent.flags![p] & PAGE_KSM) || (child.flags![k] & PAGE_KSM)) write.push(k);
    if (same) p++;
  });
  while (p < parent.addresses.length) drop.push(parent.addresses[p++]);
  return { write, drop: indexIn(layout, drop) };
}
