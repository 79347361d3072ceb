// Transparent huge pages, as Linux 6.18 treats them under KSM (docs/thp.md has the rules and the
// experiments behind them). A whole huge page is a leaf of 512 pages flagged LEAF_WHOLE_HUGE. ksmd
// visits its subpages as ordinary pages; only a merge attempt on one of them splits it, in every
// space that maps it, and the split maps every zero-filled subpage to the shared zero page, where
// ksmd no longer sees it (its rmap item goes when the walk passes it). No KSM counter moves at a
// split; the library counts splits and the zero-mapped subpages as its own figures.
import {
  C_HUGE_PAGES, C_SPLIT_ZERO_PAGES, C_THP_SPLITS, DIR_ENTRIES, ENTRY_SIZE, HUGE_PAGE_PAGES, LEAF_SHIFT,
  LEAF_WHOLE_HUGE, MAX_SPACES, PTE_MAPPED, PTE_MERGEABLE, PTE_SPLIT_ZERO, SPACE_ALIVE, SPACE_EXITING, S_DIR,
} from './layout';
import { frameNode, leafFlags, mapcount, setLeafFlags, unmapFrame } from './alloc';
import { addCounter } from './counters';
import { contentsAreZero } from './contents';
import { hasFlag, isWholeHuge, leafAt, leafOf, pteAt, ptePfn, setPte, spaceField, spacePages } from './spaces';

/** Can the leaf become a huge page: all 512 pages present, private and mapped once. */
function collapsible(leaf: u32): bool {
  for (let entry = leaf, end = leaf + HUGE_PAGE_PAGES * ENTRY_SIZE; entry < end; entry += ENTRY_SIZE) {
    const pte = pteAt(entry);
    const pfn = ptePfn(pte);
    if (!(pte & PTE_MAPPED) || pfn == 0 || frameNode(pfn) != 0 || mapcount(pfn) != 1) return false;
  }
  return true;
}

/**
 * MADV_COLLAPSE on pages [first, first+count): each aligned 512-page range inside it whose pages
 * are all present and private becomes one whole huge page (others are left as they are).
 */
export function collapse(space: u32, first: u32, count: u32): void {
  const end = first + count;
  for (let vpn = (first + HUGE_PAGE_PAGES - 1) & ~(HUGE_PAGE_PAGES - 1); vpn + HUGE_PAGE_PAGES <= end; vpn += HUGE_PAGE_PAGES) {
    const leaf = leafAt(space, vpn);
    if ((leafFlags(leaf) & LEAF_WHOLE_HUGE) || !collapsible(leaf)) continue;
    setLeafFlags(leaf, LEAF_WHOLE_HUGE);
    addCounter(C_HUGE_PAGES, 1);
  }
}

/**
 * Before a merge on the page at `entry`: its huge page, if whole, is split. False when the page
 * itself was zero-filled: it maps the zero page now, and the merge fails.
 */
export function splitForMerge(entry: u32): bool {
  if (!isWholeHuge(entry)) return true;
  splitHugePage(entry);
  return ptePfn(pteAt(entry)) != 0;
}

/** Splits the whole huge page holding `entry`: in its space and in every space that shares it (fork). */
export function splitHugePage(entry: u32): void {
  const leaf = leafOf(entry);
  if (sharedByFork(leaf)) {
    const index = (entry - leaf) / ENTRY_SIZE;
    const pfn = ptePfn(pteAt(entry));
    for (let id: u32 = 1; id < MAX_SPACES; id++) {
      if (!hasFlag(id, SPACE_ALIVE) || hasFlag(id, SPACE_EXITING)) continue;
      const other = leafMapping(id, pfn, index);
      if (other != 0 && other != leaf) splitLeaf(other);
    }
  }
  splitLeaf(leaf);
  addCounter(C_THP_SPLITS, 1);
}

function sharedByFork(leaf: u32): bool {
  for (let entry = leaf, end = leaf + HUGE_PAGE_PAGES * ENTRY_SIZE; entry < end; entry += ENTRY_SIZE) {
    const pfn = ptePfn(pteAt(entry));
    if (pfn != 0 && mapcount(pfn) > 1) return true;
  }
  return false;
}

/** The whole leaf of space `id` that maps frame `pfn` at entry `index`, or 0. */
function leafMapping(id: u32, pfn: u32, index: u32): u32 {
  if (spaceField(id, S_DIR) == 0) return 0;
  const leaves = (spacePages(id) + HUGE_PAGE_PAGES - 1) >> LEAF_SHIFT;
  for (let i: u32 = 0; i < leaves && i < DIR_ENTRIES; i++) {
    const leaf = leafAt(id, i << LEAF_SHIFT);
    if ((leafFlags(leaf) & LEAF_WHOLE_HUGE) && ptePfn(pteAt(leaf + index * ENTRY_SIZE)) == pfn) return leaf;
  }
  return 0;
}

/** One space's mapping of a huge page becomes 512 pages; zero-filled ones map the zero page. */
function splitLeaf(leaf: u32): void {
  for (let entry = leaf, end = leaf + HUGE_PAGE_PAGES * ENTRY_SIZE; entry < end; entry += ENTRY_SIZE) {
    const pte = pteAt(entry);
    const pfn = ptePfn(pte);
    if (pfn == 0 || !contentsAreZero(pfn)) continue;
    unmapFrame(pfn);
    setPte(entry, (pte & (PTE_MAPPED | PTE_MERGEABLE)) | PTE_SPLIT_ZERO);
    addCounter(C_SPLIT_ZERO_PAGES, 1);
  }
  setLeafFlags(leaf, 0);
  addCounter(C_HUGE_PAGES, -1);
}

/** fork(): the child maps the parent's huge pages too (still whole in both until a split). */
export function copyLeafFlags(parent: u32, child: u32): void {
  const leaves = (spacePages(parent) + HUGE_PAGE_PAGES - 1) >> LEAF_SHIFT;
  for (let i: u32 = 0; i < leaves; i++) {
    const flags = leafFlags(leafAt(parent, i << LEAF_SHIFT));
    if (!(flags & LEAF_WHOLE_HUGE)) continue;
    setLeafFlags(leafAt(child, i << LEAF_SHIFT), flags);
    addCounter(C_HUGE_PAGES, 1);
  }
}

/** exit(): the space's huge pages go with its mappings. */
export function dropLeafFlags(space: u32): void {
  const leaves = (spacePages(space) + HUGE_PAGE_PAGES - 1) >> LEAF_SHIFT;
  for (let i: u32 = 0; i < leaves; i++) {
    const leaf = leafAt(space, i << LEAF_SHIFT);
    if (!(leafFlags(leaf) & LEAF_WHOLE_HUGE)) continue;
    setLeafFlags(leaf, 0);
    addCounter(C_HUGE_PAGES, -1);
  }
}
