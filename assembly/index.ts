// The export surface of the core, and nothing else. Only numbers cross: space ids, page numbers,
// counts, addresses into this memory, status codes (0, or negative as the kernel's errno).
// The driver (src/core.ts) is the only caller.
import {
  C_PAGE_INFO, DIR_ENTRIES, E_NOMEM, ITEM_SKIPPED, ITEM_STABLE, ITEM_UNSTABLE, LEAF_SHIFT, PTE_MAPPED,
  PTE_MERGEABLE, PTE_ZERO, SPACE_ALIVE, SPACE_EXITING, STABLE_ROOT, S_MERGEABLE, UNSTABLE_ROOT,
  WASM_PAGE, ZERO_FRAME_LOCATION,
} from './layout';
import { frameAddress, frameNode, initMemory, mapcount, memoryBytes } from './alloc';
import { setCounter } from './counters';
import { pageChecksum, xxh64 } from './checksum';
import { isZeroPage, memcmpPages } from './page';
import { verify } from './rbtree';
import { itemAge, itemFlags, itemSkips } from './rmap';
import { batchEndedPass, batchStatus, scanBatch } from './scan';
import { HEAD, entryOf, hasFlag, itemAt, newSpace, pteAt, ptePfn, slotNext, spaceField } from './spaces';
import * as stable from './stable';
import * as mm from './mm';
import * as state from './state';

export {
  BASE_LOCATION, COUNTERS_LOCATION, SCRATCH_LOCATION, SCRATCH_SIZE, ZERO_FRAME_LOCATION, PAGE_SIZE,
  C_PAGES_SHARED, C_PAGES_SHARING, C_PAGES_UNSHARED, C_RMAP_ITEMS, C_PAGES_SCANNED, C_PAGES_SKIPPED,
  C_FULL_SCANS, C_CHAINS, C_DUPS, C_ZERO_PAGES, C_COW_KSM, C_FRAMES_IN_USE, C_KSM_FRAMES,
  C_MAPPED_PAGES, C_RECORDS_IN_USE, C_PAGE_INFO, RECORD_SIZE, MAX_SPACES, E_NOMEM, E_BUSY,
  S_RMAP_ITEMS, S_MERGING, S_ZERO, SPACE_MERGE_ANY, SPACE_REGISTERED, MAX_SPACE_PAGES,
} from './layout';

/** Sets up the memory for a cap of `maxWasmPages` × 64 KiB. Called once, first. 0 or E_NOMEM. */
export function init(maxWasmPages: u32): i32 {
  if (!initMemory(maxWasmPages)) return E_NOMEM;
  state.setZeroChecksum(pageChecksum(ZERO_FRAME_LOCATION));
  return 0;
}

/** The knobs the scanner reads; called whenever one changes. */
export function setScanKnobs(maxPageSharing: u32, useZeroPages: bool, smartScan: bool, pruneMillisecs: u32, runUnmerge: bool): void {
  state.setScanKnobs(maxPageSharing, useZeroPages, smartScan, pruneMillisecs, runUnmerge);
}

// ---- spaces -------------------------------------------------------------------------------------

/** A space of `pages` mapped, absent pages. Returns its id, or E_NOMEM. */
export function createSpace(pages: u32): i32 {
  if (pages == 0 || pages > DIR_ENTRIES << LEAF_SHIFT) return E_NOMEM;
  const id = newSpace(pages);
  return id == 0 ? E_NOMEM : <i32>id;
}

export function forkSpace(parent: u32): i32 {
  const id = mm.forkSpace(parent);
  return id == 0 ? E_NOMEM : <i32>id;
}

export function exitSpace(space: u32): void { mm.exitSpace(space); }

/** Before a write of pages [first, first+count): copy-on-write where needed. 0 or E_NOMEM. */
/** Before a write of pages [first, first+count): copy-on-write where needed; the flags say whether the write covers the first and last page whole. 0 or E_NOMEM. */
export function prepareWrite(space: u32, first: u32, count: u32, firstWhole: bool, lastWhole: bool): i32 {
  return mm.prepareWrite(space, first, count, firstWhole, lastWhole);
}

/** prepareWrite of one page, then its address (one crossing per copy-on-write break); 0 if no memory. */
export function prepareWritePage(space: u32, vpn: u32, whole: bool): u32 {
  if (mm.prepareWrite(space, vpn, 1, whole, whole) != 0) return 0;
  return pageAddress(space, vpn);
}

/** Where a page's bytes are now (the zero frame if nothing is present). For reads, and for writes after prepareWrite. */
export function pageAddress(space: u32, vpn: u32): u32 {
  const pfn = ptePfn(pteAt(entryOf(space, vpn)));
  return pfn != 0 ? frameAddress(pfn) : ZERO_FRAME_LOCATION;
}

/** madvise: 12 MERGEABLE, 13 UNMERGEABLE, 4 DONTNEED. 0 or E_NOMEM. */
export function madvise(space: u32, first: u32, count: u32, advice: u32): i32 {
  if (advice == 12) { mm.madviseMergeable(space, first, count); return 0; }
  if (advice == 13) return mm.madviseUnmergeable(space, first, count);
  mm.madviseDontneed(space, first, count);
  return 0;
}

export function unmapPages(space: u32, first: u32, count: u32): void { mm.unmapPages(space, first, count); }
export function setMergeAny(space: u32, on: bool): i32 { return mm.setMergeAny(space, on); }

/** A field of a space's record (S_RMAP_ITEMS, S_MERGING, S_ZERO). */
export function spaceCounter(space: u32, field: u32): i32 { return <i32>spaceField(space, field); }
export function spaceFlags(space: u32): u32 { return mm.spaceFlags(space); }
export function spaceMergeable(space: u32): bool {
  return hasFlag(space, SPACE_ALIVE) && !hasFlag(space, SPACE_EXITING) && spaceField(space, S_MERGEABLE) > 0;
}

// ---- ksmd ---------------------------------------------------------------------------------------

/** One batch of up to `budget` pages at clock `nowMs`. Returns pages processed; see lastBatchStatus. */
export function scan(budget: u32, nowMs: u32): u32 {
  state.setNow(nowMs);
  return scanBatch(budget);
}
export function lastBatchStatus(): i32 { return batchStatus; }
export function lastBatchEndedPass(): bool { return batchEndedPass; }
export function unmergeAll(): i32 { return mm.unmergeAll(); }
export function removeAllStableNodes(): bool { return stable.removeAllStableNodes(); }
/** The slot list is not empty (ksmd has an address space to scan). */
export function hasSlots(): bool { return slotNext(HEAD) != HEAD; }

/**
 * What a page maps and its item's state, written to counter cells C_PAGE_INFO..+6: mapping
 * (0 unmapped, 1 absent, 2 private, 3 cow, 4 ksm, 5 zero), frame, mapcount, mergeable, item
 * (0 none, 1 volatile, 2 unstable, 3 stable, 4 skipped), age, remaining skips.
 */
export function pageInfo(space: u32, vpn: u32): void {
  const entry = entryOf(space, vpn);
  const pte = pteAt(entry);
  const pfn = ptePfn(pte);
  let mapping: i64 = 0;
  if (pte & PTE_MAPPED) {
    if (pfn != 0) mapping = frameNode(pfn) != 0 ? 4 : mapcount(pfn) > 1 ? 3 : 2;
    else mapping = pte & PTE_ZERO ? 5 : 1;
  }
  const item = itemAt(entry);
  let itemState: i64 = 0;
  if (item != 0) {
    const flags = itemFlags(item);
    itemState = flags & ITEM_STABLE ? 3 : flags & ITEM_UNSTABLE ? 2 : flags & ITEM_SKIPPED ? 4 : 1;
  }
  setCounter(C_PAGE_INFO, mapping);
  setCounter(C_PAGE_INFO + 1, pfn != 0 ? <i64>pfn : -1);
  setCounter(C_PAGE_INFO + 2, pfn != 0 ? <i64>mapcount(pfn) : 0);
  setCounter(C_PAGE_INFO + 3, pte & PTE_MERGEABLE ? 1 : 0);
  setCounter(C_PAGE_INFO + 4, itemState);
  setCounter(C_PAGE_INFO + 5, item != 0 ? <i64>itemAge(item) : 0);
  setCounter(C_PAGE_INFO + 6, item != 0 ? <i64>itemSkips(item) : 0);
}

export function memorySize(): f64 { return <f64>memoryBytes(); }
export function maxWasmPagesFor(bytes: f64): u32 { return <u32>Math.ceil(bytes / WASM_PAGE); }

// ---- primitives, for tests and benchmarks -------------------------------------------------------

export function checksumAt(address: u32): u32 { return pageChecksum(address); }
export function xxh64At(address: u32, length: u32): u64 { return xxh64(address, length); }
export function compareAt(a: u32, b: u32): i32 { return memcmpPages(a, b); }
export function isZeroAt(address: u32): bool { return isZeroPage(address); }
export function copyAt(to: u32, from: u32): void { memory.copy(to, from, 4096); }

/** Black height of the stable and unstable trees, or -1 if a red-black rule is broken (tests). */
export function verifyStableTree(): i32 { return verify(STABLE_ROOT); }
export function verifyUnstableTree(): i32 { return verify(UNSTABLE_ROOT); }
