/**
 * The reference engine's records: rmap items (one per scanned page), stable nodes (one per KSM
 * page), stable-node chains (for max_page_sharing), and the state every part of the scanner shares
 * (counters, knobs, the batch clock). Plain objects; the kernel's 64-byte slab sizes are only used
 * for the profit formulas and the metadata estimate.
 */

import type { EngineCounters, ScanKnobs } from '../backend.js';
import { DEFAULT_MAX_PAGE_SHARING, DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS } from '../generated/core-abi.js';
import { KERNEL_RMAP_ITEM_SIZE, KERNEL_STABLE_NODE_SIZE } from '../stats.js';
import { RB_BLACK, type RbNode } from './rbtree.js';
import type { Frame, FramePool, Space } from './memory.js';

/** Bytes the kernel's slabs give an rmap item, a stable node and an mm slot (used for estimates only). */
export const RMAP_ITEM_BYTES = KERNEL_RMAP_ITEM_SIZE;
export const STABLE_NODE_BYTES = KERNEL_STABLE_NODE_SIZE;
export const MM_SLOT_BYTES = 48;

/** An rmap item's tree state (the kernel's flag bits): NONE counts as volatile. */
export enum ItemState { None, Unstable, Stable }

/** One (space, page) the scanner has found present: the kernel's `struct ksm_rmap_item`. */
export class RmapItem implements RbNode<RmapItem> {
  /** Unstable-tree links, valid while Unstable in this pass's tree. */
  left: RmapItem | null = null;
  right: RmapItem | null = null;
  parent: RmapItem | null = null;
  color = RB_BLACK;

  state = ItemState.None;
  /** full_scans & 0xff when inserted into the unstable tree. */
  seq = 0;
  oldChecksum = 0;
  /** smart_scan: visits so far (saturating at 255) and skips still owed. */
  age = 0;
  remainingSkips = 0;
  /** The last visit was skipped by smart_scan (for pageInfo only). */
  skipped = false;

  /** When Stable: the node, and the links of its list (newest first). */
  node: StableNode | null = null;
  hprev: RmapItem | null = null;
  hnext: RmapItem | null = null;

  constructor(readonly space: Space, readonly vpn: number) {}
}

/** A KSM page's node: a regular node in the stable tree, or a dup hanging off a chain. */
export class StableNode implements RbNode<StableTreeNode> {
  left: StableTreeNode | null = null;
  right: StableTreeNode | null = null;
  parent: StableTreeNode | null = null;
  color = RB_BLACK;

  /** Items mapping this KSM page, newest first (the last one is the "tail", appended first). */
  head: RmapItem | null = null;
  /** rmap_hlist_len: the list's length. */
  len = 0;
  /** The chain this node is a dup of, or null for a regular node in the tree. */
  chain: StableChain | null = null;

  constructor(readonly frame: Frame) {}
}

/** A chain: a tree position holding several KSM pages (dups) of the same content. */
export class StableChain implements RbNode<StableTreeNode> {
  left: StableTreeNode | null = null;
  right: StableTreeNode | null = null;
  parent: StableTreeNode | null = null;
  color = RB_BLACK;

  /** Dups, front first. */
  readonly dups: StableNode[] = [];

  constructor(public pruneTime: number) {}
}

export type StableTreeNode = StableNode | StableChain;

/** Default knobs (the kernel's). */
export const DEFAULT_KNOBS: ScanKnobs = {
  maxPageSharing: DEFAULT_MAX_PAGE_SHARING,
  useZeroPages: false,
  smartScan: true,
  stableNodeChainsPruneMillisecs: DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS,
  runUnmerge: false,
};

/** What the scanner's parts share. */
export class KsmState {
  readonly counters: EngineCounters = {
    pagesShared: 0, pagesSharing: 0, pagesUnshared: 0, rmapItems: 0, pagesScanned: 0,
    pagesSkipped: 0, fullScans: 0, stableNodeChains: 0, stableNodeDups: 0, ksmZeroPages: 0, cowKsm: 0,
  };
  knobs: ScanKnobs = { ...DEFAULT_KNOBS };
  /** The clock of the current batch (for chain pruning). */
  now = 0;
  /** Stable nodes and chains alive (for the metadata estimate). */
  stableNodes = 0;

  constructor(readonly pool: FramePool) {}
}
