/**
 * The stable tree: KSM pages ordered by content (full 4096-byte memcmp), with chains of dups for
 * max_page_sharing. Search, insert, append, item unlink and stale-node removal, as
 * docs/semantics.md ("Stable tree search", "Stable tree insert", "Appending", "Removing a stale
 * node", "Removing all stable nodes") lays them out.
 *
 * A node is stale once its KSM page has been freed (ksmd holds no reference on KSM pages); stale
 * nodes are found lazily, by whatever walks over them.
 */

import { memcmpPages } from './memory.js';
import { RbTree } from './rbtree.js';
import {
  ItemState, KsmState, StableChain, StableNode, type Frame, type RmapItem, type StableTreeNode,
} from './records.js';

/** Where a descent ended: an equal node (with the sharing candidate it offered), or a leaf slot. */
interface Descent {
  match: StableTreeNode | null;
  candidate: StableNode | null;
  parent: StableTreeNode | null;
  left: boolean;
}

/** What one tree position offers a descent: the page to compare with, and a sharing candidate. */
interface NodeView {
  node: StableTreeNode;
  page: Frame;
  candidate: StableNode | null;
}

/**
 * The stable trees, one per sharing domain (a node remembers its domain, so whatever removes it
 * finds its tree). A search or insert only ever walks the tree of the page's own domain.
 */
export class StableTree {
  readonly trees = new Map<number, RbTree<StableTreeNode>>();

  constructor(private readonly st: KsmState) {}

  /** The tree of one domain (made empty on first use). */
  treeOf(domain: number): RbTree<StableTreeNode> {
    let tree = this.trees.get(domain);
    if (tree === undefined) this.trees.set(domain, tree = new RbTree<StableTreeNode>());
    return tree;
  }

  /** The node's KSM page was freed (or no longer points back at it). */
  isStale(node: StableNode): boolean {
    return node.frame.stableNode !== node;
  }

  /** 0 < len < max_page_sharing: the node can take another sharer. */
  isSharingCandidate(node: StableNode): boolean {
    return node.len > 0 && node.len < this.st.knobs.maxPageSharing;
  }

  /**
   * The KSM page `page` should be merged into, or null. A page that is already a KSM page is its
   * own answer (the fork case: no descent, no fullness check).
   */
  stableTreeSearch(page: Frame, domain: number): Frame | null {
    if (page.stableNode !== null) return page;
    const d = this.descend(page, true, domain);
    return d.match !== null && d.candidate !== null ? d.candidate.frame : null;
  }

  /**
   * Link a node for the new KSM page `kpage` (after a two-page merge) and return it. Equal content
   * already in the tree makes (or extends) a chain: the new node becomes its front dup.
   */
  stableTreeInsert(kpage: Frame, domain: number): StableNode {
    const d = this.descend(kpage, false, domain);
    const node = new StableNode(kpage, domain);
    this.st.stableNodes++;
    this.st.pool.makeKsm(kpage, node);
    if (d.match === null) {
      this.treeOf(domain).link(node, d.parent, d.left);
      this.treeOf(domain).insertFixup(node);
      return node;
    }
    const chain = d.match instanceof StableChain ? d.match : this.makeChain(d.match);
    chain.dups.unshift(node);
    node.chain = chain;
    this.st.counters.stableNodeDups++;
    return node;
  }

  /** Add `item` at the head of `node`'s list. */
  stableTreeAppend(item: RmapItem, node: StableNode): void {
    const c = this.st.counters;
    if (node.head === null) c.pagesShared++;
    else c.pagesSharing++;
    item.hprev = null;
    item.hnext = node.head;
    if (node.head !== null) node.head.hprev = item;
    node.head = item;
    node.len++;
    item.state = ItemState.Stable;
    item.node = node;
    item.space.mergingPages++;
  }

  /** The stable half of remove_rmap_item_from_tree: unlink `item`, or drop its node if stale. */
  removeStableItem(item: RmapItem): void {
    const node = item.node as StableNode;
    if (this.isStale(node)) {
      this.removeNodeFromStableTree(node);
      return;
    }
    if (item.hprev !== null) item.hprev.hnext = item.hnext;
    else node.head = item.hnext;
    if (item.hnext !== null) item.hnext.hprev = item.hprev;
    node.len--;
    if (node.head !== null) this.st.counters.pagesSharing--;
    else this.st.counters.pagesShared--;
    item.space.mergingPages--;
    clearStable(item);
  }

  /**
   * Drop a node and all its items: each item but the tail does pages_sharing--, the tail (appended
   * first) pages_shared--; the items become volatile. A dup leaves its chain, a regular node the tree.
   */
  removeNodeFromStableTree(node: StableNode): void {
    const c = this.st.counters;
    for (let item = node.head; item !== null;) {
      const next: RmapItem | null = item.hnext;
      if (next !== null) c.pagesSharing--;
      else c.pagesShared--;
      item.space.mergingPages--;
      clearStable(item);
      item = next;
    }
    node.head = null;
    node.len = 0;
    if (node.chain !== null) {
      const dups = node.chain.dups;
      dups.splice(dups.indexOf(node), 1);
      node.chain = null;
      c.stableNodeDups--;
    } else {
      this.treeOf(node.domain).erase(node);
    }
    this.st.stableNodes--;
  }

  /**
   * Remove every node whose page is not mapped (for a max_page_sharing change or run=2), in tree
   * order, each chain's dups front first; free chains left empty. True if no node is left.
   * A frame is freed when its last mapping goes, so "not mapped" is "stale" here. A node whose page
   * is still mapped stays (the kernel's busy node): after run=2 that can only be a KSM page still
   * mapped by a non-mergeable page (a fork sibling's COW share, made a KSM page in place).
   */
  removeAllStableNodes(): boolean {
    const all: StableTreeNode[] = [];
    for (const tree of this.trees.values()) for (let n = tree.first(); n !== null; n = tree.next(n)) all.push(n);
    for (const node of all) {
      if (node instanceof StableNode) {
        if (this.isStale(node)) this.removeNodeFromStableTree(node);
        continue;
      }
      for (const dup of [...node.dups]) if (this.isStale(dup)) this.removeNodeFromStableTree(dup);
      if (node.dups.length === 0) this.freeChain(node);
    }
    return [...this.trees.values()].every((tree) => tree.root === null);
  }

  /** Walk the tree comparing `page`; restart from the root whenever a stale node was removed. */
  private descend(page: Frame, mayPrune: boolean, domain: number): Descent {
    const tree = this.treeOf(domain);
    restart: for (;;) {
      let parent: StableTreeNode | null = null;
      let left = false;
      let node = tree.root;
      while (node !== null) {
        const view = this.viewOf(node, mayPrune);
        if (view === null) continue restart;
        const c = memcmpPages(page, view.page);
        if (c === 0) return { match: view.node, candidate: view.candidate, parent, left };
        parent = view.node;
        left = c < 0;
        node = left ? view.node.left : view.node.right;
      }
      return { match: null, candidate: null, parent, left };
    }
  }

  /** What `node` offers the descent; null if it removed something stale (restart the walk). */
  private viewOf(node: StableTreeNode, mayPrune: boolean): NodeView | null {
    if (node instanceof StableNode) {
      if (this.isStale(node)) {
        this.removeNodeFromStableTree(node);
        return null;
      }
      return { node, page: node.frame, candidate: this.isSharingCandidate(node) ? node : null };
    }
    const found = this.chooseDup(node, mayPrune);
    if (found === null) { // every dup was stale: the chain goes
      this.freeChain(node);
      return null;
    }
    // A collapsed chain left its one dup in its place in the tree. A full dup still gives its page.
    const candidate = this.isSharingCandidate(found) ? found : null;
    return { node: found.chain === null ? found : node, page: found.frame, candidate };
  }

  /**
   * Pick the dup of `chain`: the first sharing candidate, or, when pruning is due, the longest
   * candidate after a walk over all dups; with no candidate, the first live dup (full). Stale dups
   * met are removed. A pruned chain with one live dup left collapses into it, full or not (as the
   * real ksmd does); else a chosen dup that can take two more goes to the front. Null: no dup left.
   */
  private chooseDup(chain: StableChain, mayPrune: boolean): StableNode | null {
    const knobs = this.st.knobs;
    const prune = mayPrune && this.st.now >= chain.pruneTime + knobs.stableNodeChainsPruneMillisecs;
    if (prune) chain.pruneTime = this.st.now;
    let found: StableNode | null = null;
    let firstLive: StableNode | null = null;
    let live = 0;
    for (let i = 0; i < chain.dups.length;) {
      const dup = chain.dups[i];
      if (this.isStale(dup)) {
        this.removeNodeFromStableTree(dup); // takes it out of chain.dups at i
        continue;
      }
      live++;
      i++;
      firstLive ??= dup;
      if (this.isSharingCandidate(dup) && (found === null || dup.len > found.len)) {
        found = dup;
        if (!prune) break;
      }
    }
    found ??= firstLive;
    if (found === null) return null;
    if (prune && live === 1) {
      this.collapseChain(chain, found);
    } else if (chain.dups[0] !== found && found.len + 1 < knobs.maxPageSharing) {
      chain.dups.splice(chain.dups.indexOf(found), 1);
      chain.dups.unshift(found);
    }
    return found;
  }

  /** A regular node becomes the first dup of a new chain that takes its place in the tree. */
  private makeChain(node: StableNode): StableChain {
    const chain = new StableChain(this.st.now, node.domain);
    this.st.stableNodes++;
    this.treeOf(node.domain).replace(node, chain);
    chain.dups.push(node);
    node.chain = chain;
    this.st.counters.stableNodeChains++;
    this.st.counters.stableNodeDups++;
    return chain;
  }

  /** The chain's only dup takes the chain's place in the tree. */
  private collapseChain(chain: StableChain, dup: StableNode): void {
    this.treeOf(chain.domain).replace(chain, dup);
    chain.dups.length = 0;
    dup.chain = null;
    this.st.stableNodes--;
    this.st.counters.stableNodeChains--;
    this.st.counters.stableNodeDups--;
  }

  /** Erase and free a chain with no dups left. */
  private freeChain(chain: StableChain): void {
    this.treeOf(chain.domain).erase(chain);
    this.st.stableNodes--;
    this.st.counters.stableNodeChains--;
  }
}

function clearStable(item: RmapItem): void {
  item.state = ItemState.None;
  item.node = null;
  item.hprev = null;
  item.hnext = null;
}
