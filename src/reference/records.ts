/**
 * The reference engine's records: frames (4096-byte pages with a mapcount and, for a KSM page, a
 * stable node), address spaces (a page table of frames plus per-page flags and the rmap items of
 * its pages) and their slots in the scanner's list, rmap items (one per scanned page), stable nodes
 * (one per KSM page), stable-node chains (for max_page_sharing), and the state every part of the
 * scanner shares (counters, knobs, the batch clock). They refer to one another, so they live in
 * one module; the operations on them live in memory.ts, scan.ts, stable.ts and unstable.ts.
 * Plain objects; the kernel's 64-byte slab sizes are only used for the profit formulas and the
 * metadata estimate.
 */

import { DEFAULT_MAX_PAGE_SHARING, DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS } from '../generated/core-abi.js';
import { KERNEL_RMAP_ITEM_SIZE, KERNEL_STABLE_NODE_SIZE } from '../stats.js';
import { HUGE_PAGE_PAGES, PAGE_SIZE, type EngineCounters, type ScanKnobs } from '../backend.js';
import { RB_BLACK, type RbNode } from './rbtree.js';
import { xxh64Low32 } from './xxh64.js';

/** One physical page. */
export class Frame {
  readonly data = new Uint8Array(PAGE_SIZE);
  /** The same bytes as 32-bit words, for fast equality and zero tests. */
  readonly words = new Int32Array(this.data.buffer);
  /** Page-table entries mapping this frame; the frame is freed when it falls to 0. */
  mapcount = 0;
  /** Set while this frame is a KSM page: its stable node. Cleared when the frame is freed. */
  stableNode: StableNode | null = null;
  /** The checksum of `data`, cached until the next write (the scanner sees every write). */
  private sum = 0;
  private sumValid = false;

  constructor(readonly id: number) {}

  /** xxh64(page) as u32, the kernel's calc_checksum. */
  checksum(): number {
    if (!this.sumValid) {
      this.sum = xxh64Low32(this.data);
      this.sumValid = true;
    }
    return this.sum;
  }

  /** Call after changing `data` in place. */
  written(): void {
    this.sumValid = false;
  }

  copyFrom(other: Frame): void {
    this.data.set(other.data);
    this.sum = other.sum;
    this.sumValid = other.sumValid;
  }
}

/** Allocates frames and keeps the live figures (frames, KSM frames, mappings). */
export class FramePool {
  live = 0;
  ksm = 0;
  mappings = 0;
  private nextId = 0;

  /** `limit`: the most frames alive at once (ENOMEM beyond); no limit by default. */
  constructor(readonly limit = Infinity) {}

  canAllocate(count: number): boolean {
    return this.live + count <= this.limit;
  }

  /** A zeroed frame, not yet mapped. Callers check `canAllocate` first. */
  allocate(): Frame {
    this.live++;
    return new Frame(this.nextId++);
  }

  /** A page-table entry now maps `frame`. */
  get(frame: Frame): void {
    frame.mapcount++;
    this.mappings++;
  }

  /** A page-table entry no longer maps `frame`; the last one frees it (a KSM page's node goes stale). */
  put(frame: Frame): void {
    frame.mapcount--;
    this.mappings--;
    if (frame.mapcount > 0) return;
    this.live--;
    if (frame.stableNode !== null) {
      frame.stableNode = null;
      this.ksm--;
    }
  }

  /** `frame` becomes a KSM page with `node`. */
  makeKsm(frame: Frame, node: StableNode): void {
    frame.stableNode = node;
    this.ksm++;
  }
}

/** Page flags of an address space. */
export const PTE_MAPPED = 1;
export const PTE_MERGEABLE = 2;
/** The page maps the KSM zero page (frames[vpn] is then null). */
export const PTE_ZERO = 4;
/** The page maps the shared zero page because a huge page's split found it zero-filled (frames[vpn] null). */
export const PTE_SPLIT_ZERO = 8;
export const MAPPED_MERGEABLE = PTE_MAPPED | PTE_MERGEABLE;

/** An address space (the kernel's mm). */
export class Space {
  flags: Uint8Array;
  /** The frame each page maps, or null (absent, unmapped, or the KSM zero page). */
  readonly frames: Array<Frame | null>;
  /** The rmap item of each page, or null (the kernel's sorted rmap list, indexed by page). */
  readonly items: Array<RmapItem | null>;
  /** ksm_rmap_items, ksm_zero_pages, ksm_merging_pages of /proc/PID/ksm_stat. */
  rmapItems = 0;
  zeroPages = 0;
  mergingPages = 0;
  /** PR_SET_MEMORY_MERGE is on. */
  mergeAny = false;
  /** exit() was called: the mappings are gone, the slot waits for the scanner. */
  exiting = false;
  /** Its slot in the scanner's list while registered. */
  slot: Slot | null = null;
  /** Per 512-page span: 1 while it is one whole transparent huge page. */
  wholeHuge: Uint8Array;

  /** `domain`: its sharing domain; its pages meet only pages of spaces of the same domain. */
  constructor(readonly id: number, public pages: number, readonly domain: number) {
    this.flags = new Uint8Array(pages);
    this.wholeHuge = new Uint8Array(Math.ceil(pages / HUGE_PAGE_PAGES));
    this.frames = new Array<Frame | null>(pages).fill(null);
    this.items = new Array<RmapItem | null>(pages).fill(null);
  }

  /** `pages` in all: the new ones at the end, mapped and absent. */
  grow(pages: number, mapped: number): void {
    const flags = new Uint8Array(pages);
    flags.set(this.flags);
    flags.fill(mapped, this.pages);
    this.flags = flags;
    const huge = new Uint8Array(Math.ceil(pages / HUGE_PAGE_PAGES));
    huge.set(this.wholeHuge);
    this.wholeHuge = huge;
    for (let vpn = this.pages; vpn < pages; vpn++) {
      this.frames.push(null);
      this.items.push(null);
    }
    this.pages = pages;
  }

  isMergeable(vpn: number): boolean {
    return (this.flags[vpn] & MAPPED_MERGEABLE) === MAPPED_MERGEABLE;
  }

  isZero(vpn: number): boolean {
    return (this.flags[vpn] & PTE_ZERO) !== 0;
  }

  isSplitZero(vpn: number): boolean {
    return (this.flags[vpn] & PTE_SPLIT_ZERO) !== 0;
  }

  isWholeHuge(vpn: number): boolean {
    return this.wholeHuge[Math.floor(vpn / HUGE_PAGE_PAGES)] === 1;
  }
}

/** A registered space's place in the scanner's circular list (the head has no space). */
export class Slot {
  prev: Slot = this;
  next: Slot = this;
  constructor(readonly space: Space | null) {}
}

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

  /** `domain`: the sharing domain whose tree holds it. */
  constructor(readonly frame: Frame, readonly domain: number) {}
}

/** A chain: a tree position holding several KSM pages (dups) of the same content. */
export class StableChain implements RbNode<StableTreeNode> {
  left: StableTreeNode | null = null;
  right: StableTreeNode | null = null;
  parent: StableTreeNode | null = null;
  color = RB_BLACK;

  /** Dups, front first. */
  readonly dups: StableNode[] = [];

  constructor(public pruneTime: number, readonly domain: number) {}
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
  /** The spaces alive (a huge page's split reaches every space that shares it). */
  readonly spaces = new Map<number, Space>();
  /** Whole huge pages now, huge pages split so far, pages a split mapped to the zero page now. */
  hugePages = 0;
  hugePageSplits = 0;
  splitZeroPages = 0;

  constructor(readonly pool: FramePool) {}
}
