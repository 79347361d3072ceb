/**
 * The contract between the driver (ksm.ts) and an engine. Two engines implement it: the WebAssembly
 * core (core.ts) and the plain-TypeScript reference (reference/). Only numbers and byte arrays cross.
 *
 * The driver validates every argument before it calls (space alive, pages in range and mapped,
 * knob values legal), so an engine trusts its arguments. An engine call fails only by returning
 * ENOMEM, and a call that fails has changed nothing. The read-only calls
 * (spaceCounters, pageInfo) also answer for a space that has exited: its real state until ksmd
 * has freed it, then zeros and 'unmapped' (ids are not reused soon).
 *
 * Behaviour is that of Linux KSM (ksm-model: the kernel's mm/ksm.c), including which counters move
 * when: a copy-on-write break, unmerge, unmap or exit leaves the sysfs counters as they were until
 * the scanner next visits the page; only ksm_zero_pages and cow_ksm move at once.
 */

import { MADV_COLLAPSE, MADV_DONTNEED, MADV_MERGEABLE, MADV_UNMERGEABLE } from './generated/core-abi.js';

// The numbers both engines share come from the core's build (constants only, never logic: the
// reference engine stays an independent implementation for the differential test).
export {
  HUGE_PAGE_PAGES, MADV_COLLAPSE, MADV_DONTNEED, MADV_MERGEABLE, MADV_UNMERGEABLE, MAX_SPACE_PAGES, PAGE_SHIFT,
  PAGE_SIZE, REGISTERED_FIRST, DEFAULT_DOMAIN, MAX_DOMAINS,
} from './generated/core-abi.js';

/** madvise advice understood by `KsmBackend.madvise`. */
export type Advice = typeof MADV_MERGEABLE | typeof MADV_UNMERGEABLE | typeof MADV_DONTNEED | typeof MADV_COLLAPSE;

/** The knobs the scanner itself reads, already validated. */
export interface ScanKnobs {
  maxPageSharing: number;
  useZeroPages: boolean;
  smartScan: boolean;
  stableNodeChainsPruneMillisecs: number;
  /** run has the UNMERGE bit (run=2): new slots go to the tail of the list, not behind the cursor. */
  runUnmerge: boolean;
}

/** Global counters, the kernel's (sysfs) plus the hidden rmap_items total and /proc/vmstat cow_ksm. */
export interface EngineCounters {
  pagesShared: number;
  pagesSharing: number;
  pagesUnshared: number;
  /** All rmap items alive, exited spaces' included (the kernel's hidden ksm_rmap_items). */
  rmapItems: number;
  pagesScanned: number;
  pagesSkipped: number;
  fullScans: number;
  stableNodeChains: number;
  stableNodeDups: number;
  ksmZeroPages: number;
  cowKsm: number;
}

/** Per address space: the fields behind /proc/PID/ksm_stat, and the slot state. */
export interface EngineSpaceCounters {
  rmapItems: number;
  zeroPages: number;
  mergingPages: number;
  /** At least one mapped page is currently mergeable (ksm_mergeable). */
  mergeable: boolean;
  /** PR_SET_MEMORY_MERGE is on (ksm_merge_any). */
  mergeAny: boolean;
  /** The space has a slot in the scanner's list (the kernel's MMF_VM_MERGEABLE). */
  registered: boolean;
}

/** Exact live figures of the engine's own; not the kernel's lagging counters. */
export interface EngineLive {
  /** Frames holding page contents right now (KSM and private), the zero frame not counted. */
  framesInUse: number;
  /** Present page-table entries that map a frame or the KSM zero page. */
  mappedPages: number;
  /** Frames that are KSM pages right now. */
  ksmFrames: number;
  /** Bytes of metadata the engine holds for merging (rmap items, stable nodes): the blocks its allocator keeps for them. */
  metadataBytes: number;
  /** Bytes of memory the engine occupies in all (WebAssembly linear memory, or an estimate). */
  memoryBytes: number;
  /** Whole transparent huge pages now (MADV_COLLAPSE made them; a merge attempt splits them). */
  hugePages: number;
  /** Huge pages split so far (the kernel's thp_split_page). */
  hugePageSplits: number;
  /** Pages that map the shared zero page now because a split found them zero-filled (freed frames no KSM counter shows). */
  splitZeroPages: number;
}

export interface BatchResult {
  /** Pages processed (cmp_and_merge_page calls) in this batch. */
  scanned: number;
  /** The batch ended a full pass (full_scans went up). */
  passEnded: boolean;
  /** 0, or ENOMEM when the batch stopped early because metadata could not be allocated. */
  status: number;
  /** No slot is left after the batch (or there was none): ksmd waits for work. */
  noSlots: boolean;
}

export type PageMapping =
  | 'unmapped'   // no mapping (munmap, or outside what was ever mapped)
  | 'absent'     // mapped but not present (never written, or dontneed): reads as zeros
  | 'private'    // an ordinary anonymous page mapped once
  | 'cow'        // an ordinary anonymous page mapped by more than one space (after fork)
  | 'ksm'        // a KSM page
  | 'zero'       // the KSM zero page (use_zero_pages)
  | 'split-zero'; // the shared zero page, mapped by a huge page's split for a zero-filled subpage (ksmd passes over it)

export type ItemState = 'none' | 'volatile' | 'unstable' | 'stable' | 'skipped';

export interface PageInfo {
  mapping: PageMapping;
  /** The frame mapped, or -1 (absent, unmapped, zero). Equal numbers are the same physical page. */
  frame: number;
  /** How many page-table entries map that frame. */
  mapcount: number;
  mergeable: boolean;
  /** The rmap item's state: none (no item), volatile (NONE), unstable, stable, or skipped (NONE, last visit skipped by smart_scan). */
  item: ItemState;
  age: number;
  remainingSkips: number;
  /** A subpage of a whole transparent huge page. */
  huge: boolean;
}

/**
 * 'wasm': the WebAssembly core; 'reference': the plain-TypeScript engine; 'fingerprints': the
 * WebAssembly core built to hold a 128-bit fingerprint per frame instead of its 4 KiB (frozen inputs
 * only: docs/fingerprints.md). It takes whole pages and keeps no bytes, so read and pageView refuse.
 */
export type EngineName = 'wasm' | 'reference' | 'fingerprints';

export interface KsmBackend {
  readonly engine: EngineName;

  setScanKnobs(knobs: ScanKnobs): void;

  /**
   * A new, unregistered space of `pages` mapped, absent, not mergeable pages, in sharing domain
   * `domain` (0..MAX_DOMAINS-1; DEFAULT_DOMAIN if left out). Returns its id (> 0) or ENOMEM.
   */
  createSpace(pages: number, domain?: number): number;
  /**
   * The space grows to `pages` pages (more than it has, at most MAX_SPACE_PAGES; not exiting): the
   * new ones at its end, mapped and absent, and mergeable if PR_SET_MEMORY_MERGE is on. 0, or
   * ENOMEM with nothing changed.
   */
  growSpace(id: number, pages: number): number;
  /** fork(): a copy-on-write child in the parent's domain; registered (slot behind the cursor) if the parent is. Returns its id or ENOMEM. */
  fork(parent: number): number;
  /** exit(): tear down the mappings now; the slot and rmap items wait for the scanner (or are freed at once if it has none). */
  exit(id: number): void;

  /** Write bytes at a byte address of the space (may span pages, all mapped). Copy-on-write as needed. 0 or ENOMEM. */
  write(id: number, address: number, data: Uint8Array): number;
  /**
   * The fingerprint engine only: pages from `firstVpn` get the contents whose fingerprint records
   * (FP_RECORD_SIZE bytes each) are given, as writes of those whole pages would. 0, or ENOMEM with
   * nothing written.
   */
  writeFingerprints?(id: number, firstVpn: number, records: Uint8Array): number;
  /**
   * The fingerprint engine only: page vpns[i] gets the contents of record i, for pages scattered
   * over the space (a content shard's). 0, or ENOMEM: then the pages of the failing batch
   * (FINGERPRINT_BATCH_PAGES of them at most, src/core.ts) are unwritten, earlier batches written.
   */
  writeFingerprintsAt?(id: number, vpns: Uint32Array, records: Uint8Array): number;
  /** Read bytes at a byte address of the space (pages mapped; absent pages read as zeros). */
  read(id: number, address: number, out: Uint8Array): void;
  /** A zero-copy view of one mapped page, valid until the next call into the engine. Never write through it. */
  pageView(id: number, vpn: number): Uint8Array;

  /**
   * madvise on mapped pages [first, first+count). MERGEABLE also registers the space; COLLAPSE
   * makes each aligned 512-page range of present private pages one whole huge page. ENOMEM
   * (unmerge copies), or flags: REGISTERED_FIRST when it put the first slot on an empty list.
   */
  madvise(id: number, first: number, count: number, advice: Advice): number;
  /** munmap pages [first, first+count): mappings dropped now, rmap items freed when the scanner passes. */
  unmap(id: number, first: number, count: number): void;
  /** prctl(PR_SET_MEMORY_MERGE): on registers and marks every mapped page mergeable; off unmerges them. ENOMEM, or flags as madvise's. */
  setMergeAny(id: number, on: boolean): number;

  /** One ksmd batch of up to `budget` pages. `nowMs` is the clock for chain pruning. */
  scanBatch(budget: number, nowMs: number): BatchResult;
  /** run=2: unmerge every KSM and KSM-zero page of every slot, free all rmap items and stable nodes, full_scans=0. 0 or ENOMEM (nothing done). */
  unmergeAll(): number;
  /** Remove every stable node whose page is no longer mapped (for a max_page_sharing / merge_across_nodes change). True if none is left. */
  removeAllStableNodes(): boolean;

  counters(): EngineCounters;
  spaceCounters(id: number): EngineSpaceCounters;
  pageInfo(id: number, vpn: number): PageInfo;
  live(): EngineLive;
}
