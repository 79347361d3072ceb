// Whether the stable trees changed since the previous pass began, for leaving out searches that
// would find nothing and change nothing.
//
// Why: on unchanged guests every steady pass searches the stable tree for each page that is not
// merged, and finds nothing, as it did in the pass before (on the 325 MiB fleet those searches
// were about 40 % of a steady pass). A stable-tree search has effects, and the kernel's counters
// see them: it prunes the chains it meets (stable_node_chains_prune_millisecs) and drops the stale
// nodes it meets. A search can be left out only where doing it would find nothing and change
// nothing, and it is left out only when all of these hold (enough, not all the cases there are):
//   - the page was not written since its last search (ITEM_CLEAN), so its key and contents are
//     those it searched with;
//   - that search was a quiet miss (ITEM_MISSED): no chain, no stale node and no node of equal
//     content on its path, so it changed nothing;
//   - it was at the page's last visit, in the previous pass: each visit clears what the last one
//     noted before it does anything else (so no path through a visit can leave an old miss
//     behind), every pass visits every page it keeps an item for (a smart_scan skip clears the
//     notes too), and ITEM_MISSED_ODD, the pass's parity, is checked besides;
//   - no stable tree changed since the previous pass began: the same walk would meet the same
//     nodes, none stale (a node turning stale is a change), none a chain (a node turning into one
//     is a change).
// A dup added to, or dropped from, a chain need not count: only a walk that meets the chain sees
// it, and such a walk is never quiet. (The pass right after a merge pass gains nothing here: its
// trees changed in that pass, on cloned guests up to its last pages.)

import { C_FULL_SCANS, ITEM_CLEAN, ITEM_MISSED, ITEM_MISSED_ODD } from './layout';
import { counter } from './counters';

/** Changes to any stable tree so far (wrapping: 2^32 changes within two passes cannot happen). */
let stableGeneration: u32 = 0;
/** stableGeneration when the current pass began, and when the one before it began. */
let generationAtPassStart: u32 = 0;
let generationAtPreviousPassStart: u32 = 1; // differs from the start: no pass before the first

/** A stable tree changed: a node went in or out, was replaced, or turned stale. */
@inline export function stableTreesChanged(): void { stableGeneration++; }

/** A pass begins (the unstable trees are emptied). */
export function stablePassStarts(): void {
  generationAtPreviousPassStart = generationAtPassStart;
  generationAtPassStart = stableGeneration;
}

/**
 * An item whose flags were `flags` when its visit began (scan.ts): its stable search at its last
 * visit, in the previous pass, was a quiet miss, its page is unwritten since, and no stable tree
 * changed since that pass began. This visit's search would find nothing and change nothing, so it
 * is left out (scan.ts). Its page must not map a KSM page, and be searched by its own contents
 * (the caller's part).
 */
/** The note of a quiet miss made in this pass: ITEM_MISSED, with the pass's parity. */
export function quietMissNote(): u8 {
  return ITEM_MISSED | ((<u32>counter(C_FULL_SCANS) & 1) != 0 ? ITEM_MISSED_ODD : 0);
}

export function quietMissCarriesOver(flags: u8): bool {
  if ((flags & (ITEM_CLEAN | ITEM_MISSED)) != (ITEM_CLEAN | ITEM_MISSED)) return false;
  const previousOdd = ((<u32>counter(C_FULL_SCANS) - 1) & 1) != 0;
  return ((flags & ITEM_MISSED_ODD) != 0) == previousOdd && stableGeneration == generationAtPreviousPassStart;
}
