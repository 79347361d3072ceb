// The unstable tree: pages whose checksum did not change since the scanner's last visit, ordered
// by their current content, rebuilt from empty at the start of every full pass. Contents may change
// under it (its order can go wrong): colours still keep it balanced, and every hit is re-checked
// by a full compare.
import { RB_LEFT, RB_RIGHT, UNSTABLE_ROOT } from './layout';
import { frameAddress } from './alloc';
import { memcmpPages } from './page';
import { insertFixup, linkNode } from './rbtree';
import { entryOf, isScannable, pteAt, ptePfn, spaceField } from './spaces';
import { itemSpace, itemVpn, markUnstable } from './rmap';
import { SPACE_EXITING, SPACE_ALIVE, S_FLAGS } from './layout';

/** Empties the tree (its items are recognised as old by their seq bits). */
export function resetUnstableTree(): void { store<u32>(UNSTABLE_ROOT, 0); }

/** The frame an unstable item's (space, page) maps now, if it is still a mergeable anonymous page; else 0. */
function mergeablePageOf(item: u32): u32 {
  const space = itemSpace(item);
  if ((spaceField(space, S_FLAGS) & (SPACE_ALIVE | SPACE_EXITING)) != SPACE_ALIVE) return 0;
  const pte = pteAt(entryOf(space, itemVpn(item)));
  return isScannable(pte) ? ptePfn(pte) : 0;
}

/**
 * Walks the tree for a page equal to frame `pfn`. Returns the tree item holding one, or 0 after
 * inserting `item` (or after giving up: a node's page is gone, or is this very frame, shared by
 * fork; then nothing is inserted and the item stays volatile). Searching and inserting share one
 * walk, as in the kernel.
 */
export function unstableTreeSearchInsert(item: u32, pfn: u32): u32 {
  const page = frameAddress(pfn);
  let parent: u32 = 0;
  let link: u32 = UNSTABLE_ROOT;
  let node = load<u32>(link);
  while (node != 0) {
    const treePfn = mergeablePageOf(node);
    if (treePfn == 0 || treePfn == pfn) return 0;
    const cmp = memcmpPages(page, frameAddress(treePfn));
    if (cmp == 0) return node;
    parent = node;
    link = cmp < 0 ? node + RB_LEFT : node + RB_RIGHT;
    node = load<u32>(link);
  }
  linkNode(item, parent, link);
  insertFixup(UNSTABLE_ROOT, item);
  markUnstable(item);
  return 0;
}



