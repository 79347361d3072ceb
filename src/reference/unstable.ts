/**
 * The unstable tree: rmap items of pages whose checksum held still for one pass, ordered by the
 * *current* content of the page each item maps (looked up again at every compare). It is emptied
 * at the start of every pass without visiting its nodes; items left from the previous pass are
 * recognised by their sequence number when next removed.
 */

import { memcmpPages } from './memory.js';
import { RbTree } from './rbtree.js';
import { ItemState, KsmState, type Frame, type RmapItem } from './records.js';

/** The unstable trees, one per sharing domain: an item lives in the tree of its space's domain. */
export class UnstableTree {
  readonly trees = new Map<number, RbTree<RmapItem>>();

  constructor(private readonly st: KsmState) {}

  treeOf(domain: number): RbTree<RmapItem> {
    let tree = this.trees.get(domain);
    if (tree === undefined) this.trees.set(domain, tree = new RbTree<RmapItem>());
    return tree;
  }

  /** Start of a pass: every tree is simply forgotten. */
  reset(): void {
    this.trees.clear();
  }

  /**
   * The unstable half of remove_rmap_item_from_tree: an item inserted in this pass is erased from
   * the tree; one from the previous pass (whose tree is gone) only loses its flag.
   */
  removeUnstableItem(item: RmapItem): void {
    const age = (this.st.counters.fullScans - item.seq) & 0xff;
    if (age === 0) this.treeOf(item.space.domain).erase(item);
    else item.left = item.right = item.parent = null;
    this.st.counters.pagesUnshared--;
    item.state = ItemState.None;
  }

  /**
   * Search the tree of the item's domain for a page equal to `page` (item `item`'s page). Returns the tree item to merge
   * with; otherwise inserts `item` and returns null. Searching and inserting share one walk.
   * The walk aborts, inserting nothing, when a node's page is gone or is `page`'s very frame.
   */
  unstableTreeSearchInsert(item: RmapItem, page: Frame): RmapItem | null {
    let parent: RmapItem | null = null;
    let left = false;
    const tree = this.treeOf(item.space.domain);
    let node = tree.root;
    while (node !== null) {
      const treePage = mergeablePage(node);
      if (treePage === null || treePage === page) return null;
      const c = memcmpPages(page, treePage);
      if (c === 0) return node;
      parent = node;
      left = c < 0;
      node = left ? node.left : node.right;
    }
    tree.link(item, parent, left);
    tree.insertFixup(item);
    item.state = ItemState.Unstable;
    item.seq = this.st.counters.fullScans & 0xff;
    this.st.counters.pagesUnshared++;
    return null;
  }
}

/** The frame an item's (space, page) maps now, if it is still a mergeable present page. */
export function mergeablePage(item: RmapItem): Frame | null {
  const space = item.space;
  if (space.exiting || !space.isMergeable(item.vpn)) return null;
  return space.frames[item.vpn];
}
