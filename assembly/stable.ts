// The stable tree: KSM pages ordered by content. A content shared by more than max_page_sharing
// mappings becomes a chain (one tree position) of dups (one KSM page each). Stale nodes (their
// page was freed) are found and dropped lazily, whenever a walk meets them.
import {
  C_CHAINS, MAX_DOMAINS, N_DUP_NEXT, N_KEY, N_PRUNE_TIME, NODE_CHAIN,
  NODE_REGULAR, RB_LEFT, RB_RIGHT,
} from './layout';
import { frameNode, freeRecord, setFrameNode } from './alloc';
import { addCounter } from './counters';
import { CONTENTS_HAVE_KEYS, compareContents, contentsKey } from './contents';
import { erase, first, insertFixup, left, linkNode, next, replaceNode, right } from './rbtree';
import {
  addDup, isStale, newNode, nodeHead, nodeKey, nodeKind, nodeKpfn, nodeLen, removeNodeFromStableTree, setNodeKind, setNodeKpfn, unlinkDup,
} from './rmap';
import { stableRootOf } from './domains';
import { stableTreesChanged } from './stable-generation';
import { chainPruneMillisecs, maxPageSharing, nowMs } from './state';

/** A node that can take one more mapping: `0 < len < max_page_sharing` (`offset` more, for moving to the front). */
@inline function isSharingCandidate(node: u32, offset: u32 = 0): bool {
  const len = nodeLen(node);
  return len != 0 && len + offset < maxPageSharing;
}

/** Set by stableNodeDup when the chain collapsed into its only dup. */
let collapsedInto: u32 = 0;

/**
 * Picks the dup of a chain: the first candidate, or with pruning (at most once every
 * stable_node_chains_prune_millisecs per chain) the longest candidate after dropping every stale
 * dup; with no candidate, the first live dup (full: the caller will not share it). A pruned chain
 * left with one live dup collapses into it, full or not (checked on the real ksmd). Returns 0 if
 * no dup is left.
 */
function stableNodeDup(chain: u32, mayPrune: bool, root: u32): u32 {
  collapsedInto = 0;
  // Elapsed ms since the last prune, in wrapping u32 arithmetic (exact for gaps under 49 days, as
  // the kernel's jiffies comparison), so any prune interval up to 2^32-1 ms means what it says.
  const prune = mayPrune && nowMs - load<u32>(chain, N_PRUNE_TIME) >= chainPruneMillisecs;
  if (prune) store<u32>(chain, nowMs, N_PRUNE_TIME);
  let found: u32 = 0;
  let firstLive: u32 = 0;
  let live: u32 = 0;
  let dup = nodeHead(chain);
  while (dup != 0) {
    const next = load<u32>(dup, N_DUP_NEXT);
    if (isStale(dup)) {
      removeNodeFromStableTree(dup);
    } else {
      live++;
      if (firstLive == 0) firstLive = dup;
      if (isSharingCandidate(dup) && (found == 0 || nodeLen(dup) > nodeLen(found))) {
        found = dup;
        if (!prune) break;
      }
    }
    dup = next;
  }
  if (found == 0) found = firstLive;
  if (found == 0) return 0;
  if (prune && live == 1) {
    // One dup left: it takes the chain's place in the tree.
    unlinkDup(found);
    replaceNode(root, chain, found);
    stableTreesChanged();
    setNodeKind(found, NODE_REGULAR);
    freeRecord(chain);
    addCounter(C_CHAINS, -1);
    collapsedInto = found;
  } else if (nodeHead(chain) != found && isSharingCandidate(found, 1)) {
    unlinkDup(found);
    addDup(chain, found);
  }
  return found;
}

/** Set by pageToCompare: the node usable for sharing at this position (0 if none). */
let candidate: u32 = 0;

/**
 * The page a descent (of the tree at `root`) compares with at tree node `node`, and (in `candidate`)
 * the node that could take the page. Returns 0 when the walk must restart from the root because a
 * stale node was removed.
 */
function pageToCompare(node: u32, mayPrune: bool, root: u32): u32 {
  candidate = 0;
  collapsedInto = 0;
  if (nodeKind(node) != NODE_CHAIN) {
    if (isStale(node)) { removeNodeFromStableTree(node); return 0; }
    if (isSharingCandidate(node)) candidate = node;
    return nodeKpfn(node);
  }
  const dup = stableNodeDup(node, mayPrune, root);
  if (dup == 0) { // every dup was stale: the chain goes
    erase(root, node);
    stableTreesChanged();
    freeRecord(node);
    addCounter(C_CHAINS, -1);
    return 0;
  }
  if (isSharingCandidate(dup)) candidate = dup;
  return nodeKpfn(dup); // all dups hold the same content: any will do for the walk
}

/** Content order of frame `pfn` against a node's page, decided by the keys (first 4 bytes) when they differ. */
@inline function compareWithNode(pfn: u32, key: u32, node: u32, treePfn: u32): i32 {
  if (CONTENTS_HAVE_KEYS) {
    const nodeKeyValue = nodeKey(node);
    if (key != nodeKeyValue) return key < nodeKeyValue ? -1 : 1;
  }
  return compareContents(pfn, treePfn);
}

/**
 * Looks in domain `domain`'s tree for a KSM page with the same content as frame `pfn`, whose key
 * is `key` (descentKey). Returns the node to share (a regular node or a dup), or 0. A page that is
 * already a KSM page (inherited by fork) returns its own node at once, full or not.
 */
export function stableTreeSearch(pfn: u32, key: u32, domain: u32): u32 {
  searchWasQuietMiss = false;
  const own = frameNode(pfn);
  if (own != 0) return own;
  const root = stableRootOf(domain);
  let quiet = true;
  let node = load<u32>(root);
  while (node != 0) {
    if (nodeKind(node) == NODE_CHAIN) quiet = false; // a chain may be pruned on the way
    const treePfn = pageToCompare(node, true, root);
    if (treePfn == 0) { quiet = false; node = load<u32>(root); continue; } // a stale node went: start again
    if (collapsedInto != 0) node = collapsedInto;
    const cmp = compareWithNode(pfn, key, node, treePfn);
    if (cmp < 0) node = left(node);
    else if (cmp > 0) node = right(node);
    else return candidate; // 0 if every KSM page of this content is full
  }
  searchWasQuietMiss = quiet;
  return 0;
}

/**
 * The last stableTreeSearch found no node of the page's content and met no chain and no stale
 * node: it changed nothing, and, on the same trees, would again (stable-generation.ts).
 */
export let searchWasQuietMiss = false;

/**
 * Puts the new KSM page `kpfn` in domain `domain`'s stable tree: a regular node, or, if a node with the same
 * content exists, a dup of its chain (a regular node becomes a chain first). Records reserved (2).
 */
export function stableTreeInsert(kpfn: u32, domain: u32): u32 {
  const root = stableRootOf(domain);
  const key = contentsKey(kpfn);
  let parent: u32 = 0;
  let link: u32 = root;
  let equal: u32 = 0;
  let node = load<u32>(link);
  while (node != 0) {
    const treePfn = pageToCompare(node, false, root);
    if (treePfn == 0) { // a stale node went: start again
      parent = 0;
      link = root;
      node = load<u32>(link);
      continue;
    }
    const cmp = compareWithNode(kpfn, key, node, treePfn);
    if (cmp == 0) { equal = node; break; }
    parent = node;
    link = cmp < 0 ? node + RB_LEFT : node + RB_RIGHT;
    node = load<u32>(link);
  }
  const dup = newNode();
  setNodeKpfn(dup, kpfn, domain);
  if (CONTENTS_HAVE_KEYS) store<u32>(dup, key, N_KEY);
  if (equal == 0) {
    linkNode(dup, parent, link);
    insertFixup(root, dup);
    stableTreesChanged();
  } else {
    let chain = equal;
    if (nodeKind(equal) != NODE_CHAIN) chain = chainFrom(equal, root);
    addDup(chain, dup); // inside the chain: only a walk that meets the chain sees it, and such a walk is never quiet
  }
  setFrameNode(kpfn, dup);
  return dup;
}

/** Turns regular node `node` into the first dup of a new chain that takes its tree position. */
function chainFrom(node: u32, root: u32): u32 {
  const chain = newNode();
  setNodeKind(chain, NODE_CHAIN);
  if (CONTENTS_HAVE_KEYS) store<u32>(chain, nodeKey(node), N_KEY);
  store<u32>(chain, nowMs, N_PRUNE_TIME);
  replaceNode(root, node, chain);
  stableTreesChanged();
  addCounter(C_CHAINS, 1);
  addDup(chain, node);
  return chain;
}

/**
 * Removes every stable node whose page is gone (before max_page_sharing or merge_across_nodes
 * changes), in every domain, domain by domain. Nodes whose page is still mapped stay. Returns true
 * if every tree is empty after.
 */
export function removeAllStableNodes(): bool {
  let empty = true;
  for (let d: u32 = 0; d < MAX_DOMAINS; d++) {
    const root = stableRootOf(d);
    if (load<u32>(root) == 0) continue;
    removeStaleNodesOf(root);
    if (load<u32>(root) != 0) empty = false;
  }
  return empty;
}

function removeStaleNodesOf(root: u32): void {
  let node = first(root);
  while (node != 0) {
    const after = next(node);
    if (nodeKind(node) == NODE_CHAIN) {
      let dup = nodeHead(node);
      while (dup != 0) {
        const following = load<u32>(dup, N_DUP_NEXT);
        if (isStale(dup)) removeNodeFromStableTree(dup);
        dup = following;
      }
      if (nodeHead(node) == 0) {
        erase(root, node);
        stableTreesChanged();
        freeRecord(node);
        addCounter(C_CHAINS, -1);
      }
    } else if (isStale(node)) {
      removeNodeFromStableTree(node);
    }
    node = after;
  }
}
