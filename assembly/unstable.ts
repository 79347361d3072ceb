// The unstable tree: pages whose checksum did not change since the scanner's last visit, ordered
// by their current content, rebuilt from empty at the start of every full pass. Contents may change
// under it (its order can go wrong): colours still keep it balanced, and every hit is re-checked
// by a full compare.
import { ITEM_CLEAN, RB_LEFT, RB_RIGHT } from './layout';
import { unstableRootOf } from './domains';
import { CONTENTS_HAVE_KEYS, compareContents } from './contents';
import { insertFixup, linkNode } from './rbtree';
import { entryLostThisPass, isScannable, pteAt, ptePfn } from './spaces';
import { itemEntry, itemFlags, itemKey, markUnstable } from './rmap';

/**
 * Walks domain `domain`'s tree for a page equal to frame `pfn`, whose key is `key` (descentKey).
 * Returns the tree item holding one, or 0 after
 * inserting `item` (or after giving up: a node's page is gone, or is this very frame, shared by
 * fork; then nothing is inserted and the item stays volatile). Searching and inserting share one
 * walk, as in the kernel. A node whose page was not written since it went in compares by its key
 * first, so most steps never touch its page.
 */
export function unstableTreeSearchInsert(item: u32, pfn: u32, key: u32, domain: u32): u32 {
  const root = unstableRootOf(domain);
  let parent: u32 = 0;
  let link: u32 = root;
  let node = load<u32>(link);
  while (node != 0) {
    const byKey = CONTENTS_HAVE_KEYS && (itemFlags(node) & ITEM_CLEAN) != 0 && itemKey(node) != key;
    // The node's (space, page) must still map a mergeable anonymous page (exit clears its entries)
    // and not be this very frame. A node passed by its key needs neither checked while no entry was
    // lost this pass (entryLostThisPass): its page is still mapped, and another key is another frame.
    let treePfn: u32 = 0;
    if (!byKey || entryLostThisPass) {
      const pte = pteAt(itemEntry(node));
      if (!isScannable(pte)) return 0;
      treePfn = ptePfn(pte);
      if (treePfn == pfn) return 0;
    }
    const cmp = byKey ? (key < itemKey(node) ? -1 : 1) : compareContents(pfn, treePfn);
    if (cmp == 0) return node;
    parent = node;
    link = cmp < 0 ? node + RB_LEFT : node + RB_RIGHT;
    node = load<u32>(link);
  }
  linkNode(item, parent, link);
  insertFixup(root, item);
  markUnstable(item);
  return 0;
}
