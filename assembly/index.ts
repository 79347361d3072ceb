// The export surface of the core, and nothing else. Only numbers cross: space ids, page numbers,
// counts, addresses into this memory, status codes (0, or negative as the kernel's errno).
// The driver (src/core.ts) is the only caller.
import {
  BATCH_NOMEM, BATCH_NO_SLOTS, BATCH_PASS_ENDED, BATCH_SCANNED_UNIT, C_ITEM_AREA_BLOCKS, C_PAGE_INFO, C_SPACE_INFO, MAX_SPACE_PAGES,
  E_NOMEM, ITEM_SKIPPED, ITEM_STABLE, ITEM_STATE_NONE, ITEM_STATE_SKIPPED, ITEM_STATE_STABLE,
  ITEM_STATE_UNSTABLE, ITEM_STATE_VOLATILE, ITEM_UNSTABLE, MADV_COLLAPSE, MADV_MERGEABLE,
  MADV_UNMERGEABLE, MAPPING_ABSENT, MAPPING_COW, MAPPING_KSM, MAPPING_PRIVATE, MAPPING_SPLIT_ZERO,
  MAPPING_UNMAPPED, MAPPING_ZERO, PTE_MAPPED, PTE_MERGEABLE, PTE_SPLIT_ZERO, PTE_ZERO, REGISTERED_FIRST, SPACE_ALIVE, SPACE_EXITING, SPACE_MERGE_ANY, S_MERGEABLE, S_MERGING,
  S_RMAP_ITEMS, S_ZERO, MAX_DOMAINS, N_KPFN_BITS, FRAME_TABLE_LOCATION, FP_FINGERPRINT_LOW, FP_RECORD_SIZE,
} from './layout';
import { ZERO_PFN, contentsChecksum, initContents } from './contents';
import { fingerprintRun } from './fingerprint';
import { generatePages } from './generate';
export { PLAN_WORDS } from './generate';
import {
  allocArena, blocksInUse, bytesInUse, frameAddress, frameNode, fixedBytes, frameTableBytes, frameTableTouchedBytes, initMemory, itemAreaBlocks, mapcount, memoryBytes, peakMetadataBlocks, slabBlocks, tableBlocks,
} from './alloc';
import { setCounter } from './counters';
import { pageChecksum, xxh64 } from './checksum';
import { isZeroPage, memcmpPages } from './page';
import { verify } from './rbtree';
import { itemAge, itemFlags, itemSkips } from './rmap';
import { batchEndedPass, batchStatus, scanBatch } from './scan';
import {
  HEAD, entryOf, growSpace as growSpaceTables, hasFlag, isExiting, isWholeHuge, itemAt, newSpace, pteAt, ptePfn, slotNext, spaceField, spacePages,
} from './spaces';
import { collapse } from './thp';
import * as stable from './stable';
import { stableRootOf, unstableRootOf } from './domains';
import * as mm from './mm';
import * as state from './state';

// Every constant the driver, the reference engine, the CLI and the bench need comes from here:
// scripts/gen-core-abi.mjs reads these exports from the built module and writes them, with a typed
// interface of the functions below, to src/generated/core-abi.ts.
export {
  PAGE_SHIFT, PAGE_SIZE, MAX_SPACES, MAX_SPACE_PAGES, PAGE_ENGINE_RECORD_SIZE, FP_ENGINE_RECORD_SIZE, E_NOMEM,
  COUNTERS_LOCATION, COUNTERS_COUNT, SCRATCH_LOCATION, SCRATCH_SIZE,
  C_PAGES_SHARED, C_PAGES_SHARING, C_PAGES_UNSHARED, C_RMAP_ITEMS, C_PAGES_SCANNED, C_PAGES_SKIPPED,
  C_FULL_SCANS, C_CHAINS, C_DUPS, C_ZERO_PAGES, C_COW_KSM, C_FRAMES_IN_USE, C_KSM_FRAMES,
  C_MAPPED_PAGES, C_RECORDS_IN_USE, C_PAGE_INFO, C_SPACE_INFO, C_HUGE_PAGES, C_THP_SPLITS, C_SPLIT_ZERO_PAGES,
  C_ITEM_AREA_BLOCKS, ITEM_SIZE, MAPPING_UNMAPPED, MAPPING_ABSENT, MAPPING_PRIVATE, MAPPING_COW, MAPPING_KSM, MAPPING_ZERO, MAPPING_SPLIT_ZERO,
  ITEM_STATE_NONE, ITEM_STATE_VOLATILE, ITEM_STATE_UNSTABLE, ITEM_STATE_STABLE, ITEM_STATE_SKIPPED,
  SPACE_MERGE_ANY, SPACE_REGISTERED, MADV_DONTNEED, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_COLLAPSE, HUGE_PAGE_PAGES,
  DEFAULT_PAGES_TO_SCAN, DEFAULT_SLEEP_MILLISECS, DEFAULT_MAX_PAGE_SHARING,
  DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS, REGISTERED_FIRST,
  BATCH_SCANNED_UNIT, BATCH_PASS_ENDED, BATCH_NOMEM, BATCH_NO_SLOTS, MAX_DOMAINS, DEFAULT_DOMAIN,
  FP_RECORD_SIZE, FP_FINGERPRINT_LOW, FP_FINGERPRINT_HIGH, FP_CHECKSUM, FP_FLAGS, FP_ZERO,
  ENGINE_FINGERPRINTS, FP_FRAME_SIZE, FP_MAX_PAGES, FP_CAP_BYTES_PER_FRAME,
} from './layout';

/** Sets up the memory for a cap of `maxWasmPages` × 64 KiB. Called once, first. 0 or E_NOMEM. */
export function init(maxWasmPages: u32): i32 {
  if (!initMemory(maxWasmPages)) return E_NOMEM;
  initContents();
  state.setZeroChecksum(contentsChecksum(ZERO_PFN));
  return 0;
}

/** The knobs the scanner reads; called whenever one changes. */
export function setScanKnobs(maxPageSharing: u32, useZeroPages: bool, smartScan: bool, pruneMillisecs: u32, runUnmerge: bool): void {
  state.setScanKnobs(maxPageSharing, useZeroPages, smartScan, pruneMillisecs, runUnmerge);
}

// ---- spaces -------------------------------------------------------------------------------------

/** A space of `pages` mapped, absent pages, in sharing domain `domain`. Returns its id, or E_NOMEM. */
export function createSpace(pages: u32, domain: u32): i32 {
  // A stable node keeps its domain beside its frame number, in the bits the frame number leaves.
  if (pages == 0 || pages > MAX_SPACE_PAGES || domain >= MAX_DOMAINS || domain >> (32 - N_KPFN_BITS) != 0) return E_NOMEM;
  const id = newSpace(pages, domain);
  return id == 0 ? E_NOMEM : <i32>id;
}

/**
 * The space grows to `pages` pages, the new ones mapped and absent at its end (and mergeable under
 * PR_SET_MEMORY_MERGE, as a new mapping of such a process is). 0, or E_NOMEM with nothing changed;
 * the driver checks that `pages` is more than the space has and at most MAX_SPACE_PAGES.
 */
export function growSpace(space: u32, pages: u32): i32 {
  const old = spacePages(space);
  if (pages <= old || pages > MAX_SPACE_PAGES || isExiting(space)) return E_NOMEM;
  if (!growSpaceTables(space, pages)) return E_NOMEM;
  if (hasFlag(space, SPACE_MERGE_ANY)) mm.madviseMergeable(space, old, pages - old);
  return 0;
}

export function forkSpace(parent: u32): i32 {
  const id = mm.forkSpace(parent);
  return id == 0 ? E_NOMEM : <i32>id;
}

export function exitSpace(space: u32): void { mm.exitSpace(space); }

/** Before a write of pages [first, first+count): copy-on-write where needed; the flags say whether the write covers the first and last page whole. 0 or E_NOMEM. */
export function prepareWrite(space: u32, first: u32, count: u32, firstWhole: bool, lastWhole: bool): i32 {
  return mm.prepareWrite(space, first, count, firstWhole, lastWhole);
}

/** prepareWrite of one page, then its address (one crossing per copy-on-write break); 0 if no memory. */
export function prepareWritePage(space: u32, vpn: u32, whole: bool): u32 {
  if (mm.prepareWrite(space, vpn, 1, whole, whole) != 0) return 0;
  return pageAddress(space, vpn);
}

/**
 * Where a page's contents are now (the zero frame's if nothing is present): its 4 KiB, or in the
 * fingerprint engine its frame's fingerprint (16 bytes). For reads, and for writes after prepareWrite.
 */
export function pageAddress(space: u32, vpn: u32): u32 {
  const pfn = ptePfn(pteAt(entryOf(space, vpn)));
  return frameAddress(pfn != 0 ? pfn : ZERO_PFN);
}

/** madvise (MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_DONTNEED, MADV_COLLAPSE). E_NOMEM, or 0 | REGISTERED_FIRST. */
export function madvise(space: u32, first: u32, count: u32, advice: u32): i32 {
  const listWasEmpty = slotNext(HEAD) == HEAD;
  if (advice == MADV_MERGEABLE) mm.madviseMergeable(space, first, count);
  else if (advice == MADV_UNMERGEABLE) return mm.madviseUnmergeable(space, first, count);
  else if (advice == MADV_COLLAPSE) collapse(space, first, count);
  else mm.madviseDontneed(space, first, count);
  return registeredFirst(listWasEmpty);
}

export function unmapPages(space: u32, first: u32, count: u32): void { mm.unmapPages(space, first, count); }

/** prctl(PR_SET_MEMORY_MERGE, on). E_NOMEM (unmerging), or 0 | REGISTERED_FIRST. */
export function setMergeAny(space: u32, on: bool): i32 {
  const listWasEmpty = slotNext(HEAD) == HEAD;
  const status = mm.setMergeAny(space, on);
  return status < 0 ? status : registeredFirst(listWasEmpty);
}

/** As the kernel's __ksm_enter: the first slot on an empty list wakes a ksmd that waits for work. */
function registeredFirst(listWasEmpty: bool): i32 {
  return listWasEmpty && slotNext(HEAD) != HEAD ? REGISTERED_FIRST : 0;
}

/**
 * A space's ksm_stat fields and slot state, written to cells C_SPACE_INFO..+4: rmap items, merging
 * pages, zero pages, mergeable (a mapped page is flagged mergeable and the space is alive), flags.
 */
export function spaceInfo(space: u32): void {
  const mergeable = hasFlag(space, SPACE_ALIVE) && !hasFlag(space, SPACE_EXITING) && spaceField(space, S_MERGEABLE) > 0;
  setCounter(C_SPACE_INFO, <i64>spaceField(space, S_RMAP_ITEMS));
  setCounter(C_SPACE_INFO + 1, <i64>spaceField(space, S_MERGING));
  setCounter(C_SPACE_INFO + 2, <i64>spaceField(space, S_ZERO));
  setCounter(C_SPACE_INFO + 3, mergeable ? 1 : 0);
  setCounter(C_SPACE_INFO + 4, <i64>mm.spaceFlags(space));
}

// ---- ksmd ---------------------------------------------------------------------------------------

/**
 * One batch of up to `budget` pages at clock `nowMs`: scanned × BATCH_SCANNED_UNIT plus the flags
 * BATCH_PASS_ENDED, BATCH_NOMEM (stopped early for lack of records) and BATCH_NO_SLOTS (no slot
 * left after it: ksmd waits for work). Called once per batch.
 */
export function scan(budget: u32, nowMs: u32): f64 {
  state.setNow(nowMs);
  const scanned = scanBatch(budget);
  let flags: u32 = 0;
  if (batchEndedPass) flags |= BATCH_PASS_ENDED;
  if (batchStatus != 0) flags |= BATCH_NOMEM;
  if (slotNext(HEAD) == HEAD) flags |= BATCH_NO_SLOTS;
  return <f64>scanned * <f64>BATCH_SCANNED_UNIT + <f64>flags;
}
export function unmergeAll(): i32 { return mm.unmergeAll(); }
export function removeAllStableNodes(): bool { return stable.removeAllStableNodes(); }

/**
 * What a page maps and its item's state, written to counter cells C_PAGE_INFO..+6: mapping
 * (MAPPING_*), frame, mapcount, mergeable, item state (ITEM_STATE_*), age, remaining skips, and
 * whether it is a subpage of a whole huge page.
 */
export function pageInfo(space: u32, vpn: u32): void {
  const entry = entryOf(space, vpn);
  const pte = pteAt(entry);
  const pfn = ptePfn(pte);
  let mapping = MAPPING_UNMAPPED;
  if (pte & PTE_MAPPED) {
    if (pfn != 0) mapping = frameNode(pfn) != 0 ? MAPPING_KSM : mapcount(pfn) > 1 ? MAPPING_COW : MAPPING_PRIVATE;
    else mapping = pte & PTE_ZERO ? MAPPING_ZERO : pte & PTE_SPLIT_ZERO ? MAPPING_SPLIT_ZERO : MAPPING_ABSENT;
  }
  const item = itemAt(entry);
  let itemState = ITEM_STATE_NONE;
  if (item != 0) {
    const flags = itemFlags(item);
    itemState = flags & ITEM_STABLE ? ITEM_STATE_STABLE
      : flags & ITEM_UNSTABLE ? ITEM_STATE_UNSTABLE
      : flags & ITEM_SKIPPED ? ITEM_STATE_SKIPPED : ITEM_STATE_VOLATILE;
  }
  setCounter(C_PAGE_INFO, <i64>mapping);
  setCounter(C_PAGE_INFO + 1, pfn != 0 ? <i64>pfn : -1);
  setCounter(C_PAGE_INFO + 2, pfn != 0 ? <i64>mapcount(pfn) : 0);
  setCounter(C_PAGE_INFO + 3, pte & PTE_MERGEABLE ? 1 : 0);
  setCounter(C_PAGE_INFO + 4, <i64>itemState);
  setCounter(C_PAGE_INFO + 5, item != 0 ? <i64>itemAge(item) : 0);
  setCounter(C_PAGE_INFO + 6, item != 0 ? <i64>itemSkips(item) : 0);
  setCounter(C_PAGE_INFO + 7, isWholeHuge(entry) ? 1 : 0);
}

export function memorySize(): f64 { return <f64>memoryBytes(); }

/**
 * The allocator's own account of the engine's memory, in cells C_PAGE_INFO.. : 0 blocks of record
 * slabs, 1 blocks of page tables, 2 the most of 0 + 1 + item areas at once so far, 3 bytes of the
 * frame table, 4 blocks in use in all (frames too), 5 bytes before the first block (static regions
 * and frame table), 6 bytes of data in use: blocks in use and, in the fingerprint engine, its
 * fingerprint frames in use, 7 bytes of the frame table ever written (frameTableTouchedBytes); and
 * in cell C_ITEM_AREA_BLOCKS the blocks of item areas (the rmap items).
 */
export function memoryInfo(): void {
  setCounter(C_PAGE_INFO, <i64>slabBlocks);
  setCounter(C_PAGE_INFO + 1, <i64>tableBlocks);
  setCounter(C_PAGE_INFO + 2, <i64>peakMetadataBlocks);
  setCounter(C_PAGE_INFO + 3, <i64>frameTableBytes());
  setCounter(C_PAGE_INFO + 4, <i64>blocksInUse());
  setCounter(C_PAGE_INFO + 5, <i64>fixedBytes());
  setCounter(C_PAGE_INFO + 6, <i64>bytesInUse());
  setCounter(C_PAGE_INFO + 7, <i64>frameTableTouchedBytes());
  setCounter(C_ITEM_AREA_BLOCKS, <i64>itemAreaBlocks);
}

// ---- primitives, for tests and benchmarks -------------------------------------------------------

export function checksumAt(address: u32): u32 { return pageChecksum(address); }
export function xxh64At(address: u32, length: u32): u64 { return xxh64(address, length); }
export function compareAt(a: u32, b: u32): i32 { return memcmpPages(a, b); }
export function isZeroAt(address: u32): bool { return isZeroPage(address); }
export function copyAt(to: u32, from: u32): void { memory.copy(to, from, 4096); }

// ---- fingerprints -------------------------------------------------------------------------------

/** Records (FP_RECORD_SIZE bytes each) of `count` pages at `src`, written to `out`. */
export function fingerprintPages(src: u32, count: u32, out: u32): void { fingerprintRun(src, count, out); }

/**
 * Fingerprint engine: pages vpns[0..count) of `space` (u32s at `vpns`, each once) get the contents
 * of the fingerprint records at `records` (FP_RECORD_SIZE bytes each), as whole-page writes would:
 * all of them or, on E_NOMEM, none. One call for a batch of scattered pages (a content shard's).
 */
export function writeFingerprintRecords(space: u32, vpns: u32, count: u32, records: u32): i32 {
  if (mm.prepareWriteList(space, vpns, count) != 0) return E_NOMEM;
  for (let i: u32 = 0; i < count; i++) {
    const at = pageAddress(space, load<u32>(vpns + (i << 2)));
    memory.copy(at + FP_FINGERPRINT_LOW, records + i * FP_RECORD_SIZE + FP_FINGERPRINT_LOW, 16);
  }
  return 0;
}

/** The scaled scenarios' pages from their plans (assembly/generate.ts), for a hashing instance. */
export function generateScenarioPages(plans: u32, count: u32, out: u32): void { generatePages(plans, count, out); }

/** `bytes` of contiguous memory for the driver's own use (a hashing instance's buffers), or 0. */
export function reserveArena(bytes: u32): u32 { return allocArena(bytes); }

/** Black height of a domain's stable and unstable trees, or -1 if a red-black rule is broken (tests). */
export function verifyStableTree(domain: u32): i32 { return verify(stableRootOf(domain)); }
export function verifyUnstableTree(domain: u32): i32 { return verify(unstableRootOf(domain)); }
