// Rmap items and their membership of the trees: creating and freeing items, appending an item to
// a stable node, taking an item out of whichever tree holds it, and removing a stale stable node.
// Every counter change the kernel makes at these moments happens here.
import {
  C_DUPS, C_PAGES_SHARED, C_PAGES_SHARING, C_PAGES_UNSHARED, C_RMAP_ITEMS, C_FULL_SCANS, I_AGE,
  I_CHECKSUM, I_FLAGS, I_KEY, I_NEXT, I_NODE, I_PREV, I_SEQ, I_SKIPS, ITEM_LIVE, ITEM_SIZE, ITEM_STABLE,
  ITEM_MISSED_BOTH, ITEM_UNSTABLE, N_CHAIN, N_DUP_NEXT, N_DUP_PREV, N_HEAD, N_KEY, N_KIND, N_KPFN, N_KPFN_BITS, N_KPFN_MASK, N_LEN, N_LEN_MASK, NODE_CHAIN, NODE_DUP, NODE_STALE,
  C_RECORDS_IN_USE, S_MERGING, S_RMAP_ITEMS,
} from './layout';
import { allocRecord, blockOwner, freeRecord, frameNode } from './alloc';
import { addCounter, counter } from './counters';
import { addSpaceField, entryOfPlace, itemPlace } from './spaces';
import { erase } from './rbtree';
import { spaceDomain, stableRootOf, unstableRootOf } from './domains';
import { stableTreesChanged } from './stable-generation';

// ---- item fields --------------------------------------------------------------------------------

@inline export function itemFlags(item: u32): u8 { return load<u8>(item, I_FLAGS); }
@inline export function setItemFlags(item: u32, flags: u8): void { store<u8>(item, flags, I_FLAGS); }
@inline export function itemSpace(item: u32): u32 { return blockOwner(itemEntry(item)); }
/** The page-table entry of the item's (space, page): found from the item's place in its leaf pair's item area. */
@inline export function itemEntry(item: u32): u32 { return entryOfPlace(item); }
@inline export function itemKey(item: u32): u32 { return load<u32>(item, I_KEY); }
@inline export function itemChecksum(item: u32): u32 { return load<u32>(item, I_CHECKSUM); }
@inline export function setItemChecksum(item: u32, c: u32): void { store<u32>(item, c, I_CHECKSUM); }
@inline export function setItemKey(item: u32, key: u32): void { store<u32>(item, key, I_KEY); }
@inline export function itemNode(item: u32): u32 { return load<u32>(item, I_NODE); }
@inline export function itemAge(item: u32): u32 { return <u32>load<u8>(item, I_AGE); }
@inline export function setItemAge(item: u32, age: u32): void { store<u8>(item, <u8>age, I_AGE); }
@inline export function itemSkips(item: u32): u32 { return <u32>load<u8>(item, I_SKIPS); }
@inline export function setItemSkips(item: u32, skips: u32): void { store<u8>(item, <u8>skips, I_SKIPS); }
@inline export function isStable(item: u32): bool { return (itemFlags(item) & ITEM_STABLE) != 0; }
@inline function clearFlag(item: u32, flag: u8): void { setItemFlags(item, itemFlags(item) & ~flag); }

/** A new item for (space, entry), all zero (checksum 0: the first visit never merges). Its item area is there (ensureItemArea). */
export function newItem(space: u32, entry: u32): u32 {
  const item = itemPlace(entry);
  memory.fill(item, 0, ITEM_SIZE);
  store<u8>(item, ITEM_LIVE, I_FLAGS);
  addCounter(C_RECORDS_IN_USE, 1);
  addCounter(C_RMAP_ITEMS, 1);
  addSpaceField(space, S_RMAP_ITEMS, 1);
  return item;
}

/** Takes the item out of its tree and frees it. */
export function freeItem(item: u32): void {
  removeRmapItemFromTree(item);
  addCounter(C_RMAP_ITEMS, -1);
  addSpaceField(itemSpace(item), S_RMAP_ITEMS, -1);
  memory.fill(item, 0, ITEM_SIZE);
  addCounter(C_RECORDS_IN_USE, -1);
}

// ---- stable nodes -------------------------------------------------------------------------------

@inline export function nodeKind(node: u32): u8 { return load<u8>(node, N_KIND) & ~NODE_STALE; }
/** Sets the kind of a live node (the stale flag is clear on live nodes). */
@inline export function setNodeKind(node: u32, kind: u8): void { store<u8>(node, kind, N_KIND); }
@inline export function nodeKey(node: u32): u32 { return load<u32>(node, N_KEY); }
@inline export function nodeKpfn(node: u32): u32 { return load<u32>(node, N_KPFN) & N_KPFN_MASK; }
/** The sharing domain of a regular node or dup (kept beside its kpfn; a chain's is its dups'). */
@inline export function nodeDomain(node: u32): u32 { return load<u32>(node, N_KPFN) >> N_KPFN_BITS; }
/** Sets a new node's KSM page and domain. */
@inline export function setNodeKpfn(node: u32, kpfn: u32, domain: u32): void { store<u32>(node, kpfn | (domain << N_KPFN_BITS), N_KPFN); }
@inline export function nodeHead(node: u32): u32 { return load<u32>(node, N_HEAD); }
@inline export function nodeLen(node: u32): u32 { return load<u32>(node, N_LEN) & N_LEN_MASK; }
/** len shares its word with kind (the top byte); it never comes near 2^24 mappings. */
@inline function addNodeLen(node: u32, delta: i32): void { store<u32>(node, <u32>(<i32>load<u32>(node, N_LEN) + delta), N_LEN); }

/** Stale: its KSM page was freed (flagged then by unmapFrame; the frame may since hold another page). */
@inline export function isStale(node: u32): bool {
  const stale = (load<u8>(node, N_KIND) & NODE_STALE) != 0;
  if (DEBUG) assert(stale == (frameNode(nodeKpfn(node)) != node)); // the flag and the frame agree
  return stale;
}

/** Appends an item at the head of a node's list: pages_shared for the first, pages_sharing after. */
export function stableTreeAppend(item: u32, node: u32): void {
  const head = nodeHead(node);
  store<u32>(item, node, I_NODE);
  store<u32>(item, head, I_NEXT);
  store<u32>(item, 0, I_PREV);
  if (head != 0) store<u32>(head, item, I_PREV);
  store<u32>(node, item, N_HEAD);
  // A merged page searches no more; a miss noted before it merged is no guide once it is unmerged.
  setItemFlags(item, (itemFlags(item) & ~(ITEM_UNSTABLE | ITEM_MISSED_BOTH)) | ITEM_STABLE);
  addCounter(head != 0 ? C_PAGES_SHARING : C_PAGES_SHARED, 1);
  addSpaceField(itemSpace(item), S_MERGING, 1);
  addNodeLen(node, 1);
}

/**
 * Removes a stale node: each item on it stops counting (pages_sharing, or pages_shared for the
 * last item of the list), the node leaves the tree (or its chain) and is freed.
 */
export function removeNodeFromStableTree(node: u32): void {
  if (DEBUG) assert(nodeKind(node) != NODE_CHAIN && isStale(node)); // only stale KSM-page nodes go
  let item = nodeHead(node);
  while (item != 0) {
    const next = load<u32>(item, I_NEXT);
    addCounter(next != 0 ? C_PAGES_SHARING : C_PAGES_SHARED, -1);
    addSpaceField(itemSpace(item), S_MERGING, -1);
    addNodeLen(node, -1);
    clearFlag(item, ITEM_STABLE);
    item = next;
  }
  if (nodeKind(node) == NODE_DUP) unlinkDup(node);
  else erase(stableRootOf(nodeDomain(node)), node);
  stableTreesChanged();
  freeRecord(node);
}

/** Takes a dup off its chain's list: stable_node_dups--. */
export function unlinkDup(dup: u32): void {
  const next = load<u32>(dup, N_DUP_NEXT);
  const prev = load<u32>(dup, N_DUP_PREV);
  if (prev != 0) store<u32>(prev, next, N_DUP_NEXT);
  else store<u32>(load<u32>(dup, N_CHAIN), next, N_HEAD);
  if (next != 0) store<u32>(next, prev, N_DUP_PREV);
  addCounter(C_DUPS, -1);
}

/** Adds a dup at the head of a chain's list: stable_node_dups++. */
export function addDup(chain: u32, dup: u32): void {
  const head = nodeHead(chain);
  setNodeKind(dup, NODE_DUP);
  store<u32>(dup, head, N_DUP_NEXT);
  store<u32>(dup, 0, N_DUP_PREV);
  store<u32>(dup, chain, N_CHAIN);
  if (head != 0) store<u32>(head, dup, N_DUP_PREV);
  store<u32>(chain, dup, N_HEAD);
  addCounter(C_DUPS, 1);
}

/** A zeroed node record; records reserved. */
export function newNode(): u32 { return allocRecord(); }

// ---- leaving a tree -----------------------------------------------------------------------------

/**
 * Takes an item out of the stable or unstable tree, with the kernel's counter effects. An
 * unstable item from the previous pass is no longer in any tree (the root was reset): only its
 * flag goes.
 */
export function removeRmapItemFromTree(item: u32): void {
  const flags = itemFlags(item);
  if (flags & ITEM_STABLE) {
    const node = itemNode(item);
    if (isStale(node)) {
      removeNodeFromStableTree(node); // takes this item off too
      return;
    }
    const next = load<u32>(item, I_NEXT);
    const prev = load<u32>(item, I_PREV);
    if (prev != 0) store<u32>(prev, next, I_NEXT);
    else store<u32>(node, next, N_HEAD);
    if (next != 0) store<u32>(next, prev, I_PREV);
    addCounter(nodeHead(node) != 0 ? C_PAGES_SHARING : C_PAGES_SHARED, -1);
    addSpaceField(itemSpace(item), S_MERGING, -1);
    addNodeLen(node, -1);
    clearFlag(item, ITEM_STABLE);
  } else if (flags & ITEM_UNSTABLE) {
    const age = (<u32>counter(C_FULL_SCANS) - <u32>load<u8>(item, I_SEQ)) & 0xff;
    if (DEBUG) assert(age <= 1); // every unstable item is revisited within a pass
    if (age == 0) erase(unstableRootOf(spaceDomain(itemSpace(item))), item);
    addCounter(C_PAGES_UNSHARED, -1);
    clearFlag(item, ITEM_UNSTABLE);
  }
}

/**
 * Marks an item linked into the unstable tree of this pass: pages_unshared++. Its key is the one its
 * checksum's visit took (the item is clean: its checksum held).
 */
export function markUnstable(item: u32): void {
  store<u8>(item, <u8>counter(C_FULL_SCANS), I_SEQ);
  setItemFlags(item, itemFlags(item) | ITEM_UNSTABLE);
  addCounter(C_PAGES_UNSHARED, 1);
}
