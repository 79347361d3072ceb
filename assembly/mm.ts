// What processes do to their memory: write (copy-on-write), madvise, unmap, merge-any, fork, exit,
// and run=2's unmerge. Each operation first reserves every frame it may need, so it either fails
// with E_NOMEM having changed nothing, or completes.
import {
  C_COW_KSM, C_FULL_SCANS, C_MAPPED_PAGES, C_SPLIT_ZERO_PAGES, C_ZERO_PAGES, E_NOMEM, ITEM_CLEAN,
  PTE_MAPPED, PTE_MERGEABLE, PTE_SPLIT_ZERO, PTE_ZERO, SPACE_EXITING, SPACE_MERGE_ANY, SPACE_REGISTERED, S_DOMAIN, S_FLAGS, S_MERGEABLE, S_ZERO,
} from './layout';
import { allocFrame, frameNode, mapFrame, mapcount, reserveFrames, unmapFrame } from './alloc';
import { addCounter, setCounter } from './counters';
import { clearContents, copyContents } from './contents';
import {
  HEAD, addSpaceField, dropMapping, entryOf, freeSpaceTables, hasFlag, itemAt, newSpace, pteAt, ptePfn,
  registerSpace, removeSlot, setFlag, setPte, setSpaceField, slotNext, slotOnExit, spaceField, spacePages,
} from './spaces';
import { itemFlags, setItemFlags } from './rmap';
import { freeAllItems } from './scan';
import { removeAllStableNodes } from './stable';
import { resetUnstableTrees } from './domains';
import { setCursor } from './state';
import { copyLeafFlags, dropLeafFlags } from './thp';

const PTE_FLAGS: u32 = PTE_MAPPED | PTE_MERGEABLE;

/** The page's contents may change: its item's checksum and key no longer describe them. */
function forgetChecksum(entry: u32): void {
  const item = itemAt(entry);
  if (item != 0) setItemFlags(item, itemFlags(item) & ~ITEM_CLEAN);
}

/** What a fresh private frame starts with. */
const FILL_COPY: u32 = 0;    // the old page's bytes (copy-on-write)
const FILL_ZERO: u32 = 1;    // zeros (the zero page's unshare)
const FILL_NONE: u32 = 2;    // nothing: the caller overwrites every byte at once

/** A fresh frame for the entry, filled as said; the old mapping is dropped. */
function remapPrivate(space: u32, entry: u32, fill: u32): void {
  const pte = pteAt(entry);
  const old = ptePfn(pte);
  const pfn = allocFrame();
  if (fill == FILL_COPY && old != 0) copyContents(pfn, old);
  else if (fill != FILL_NONE) clearContents(pfn);
  if (old != 0) {
    unmapFrame(old);
  } else if (pte & PTE_ZERO) {
    addCounter(C_ZERO_PAGES, -1);
    addSpaceField(space, S_ZERO, -1);
  } else if (pte & PTE_SPLIT_ZERO) {
    addCounter(C_SPLIT_ZERO_PAGES, -1); // it was mapped (the zero page) and stays mapped
  } else {
    addCounter(C_MAPPED_PAGES, 1);
  }
  setPte(entry, (pte & PTE_FLAGS) | pfn);
}

// ---- write ----------------------------------------------------------------------------------------

/** A write must first get its own frame: nothing present, the zero page, a KSM page, or a COW-shared page. */
function writeNeedsFrame(pte: u32): bool {
  const pfn = ptePfn(pte);
  return pfn == 0 || frameNode(pfn) != 0 || mapcount(pfn) > 1;
}

/**
 * Makes pages [first, first+count) writable in place: after it, each maps a frame of its own, and
 * the driver writes the bytes there (pageAddress). A KSM page is always copied (cow_ksm++), even
 * by its last mapper, except that the bytes of a page the write covers whole are not copied (or
 * zeroed) first: they are all overwritten. Returns 0 or E_NOMEM (nothing changed).
 */
export function prepareWrite(space: u32, first: u32, count: u32, firstWhole: bool, lastWhole: bool): i32 {
  let need: u32 = 0;
  for (let vpn = first; vpn < first + count; vpn++) if (writeNeedsFrame(pteAt(entryOf(space, vpn)))) need++;
  if (!reserveFrames(need)) return E_NOMEM;
  for (let vpn = first; vpn < first + count; vpn++) {
    const entry = entryOf(space, vpn);
    const pte = pteAt(entry);
    forgetChecksum(entry);
    if (!writeNeedsFrame(pte)) continue;
    const pfn = ptePfn(pte);
    if (pfn != 0 && frameNode(pfn) != 0) addCounter(C_COW_KSM, 1);
    const whole = (vpn != first || firstWhole) && (vpn != first + count - 1 || lastWhole);
    remapPrivate(space, entry, whole ? FILL_NONE : FILL_COPY);
  }
  return 0;
}

/**
 * prepareWrite of whole pages vpns[0..count) (u32s at `vpns`, in any order, each once) of `space`:
 * frames for all of them are reserved first, so it is all or nothing. 0 or E_NOMEM.
 */
export function prepareWriteList(space: u32, vpns: u32, count: u32): i32 {
  let need: u32 = 0;
  for (let i: u32 = 0; i < count; i++) if (writeNeedsFrame(pteAt(entryOf(space, load<u32>(vpns + (i << 2)))))) need++;
  if (!reserveFrames(need)) return E_NOMEM;
  for (let i: u32 = 0; i < count; i++) prepareWrite(space, load<u32>(vpns + (i << 2)), 1, true, true);
  return 0;
}

// ---- madvise, munmap, prctl -----------------------------------------------------------------------

/** Pages of the range a KSM unmerge must copy: mergeable ones mapping a KSM page or the zero page. */
function unshareCount(space: u32, first: u32, count: u32): u32 {
  let n: u32 = 0;
  for (let vpn = first; vpn < first + count; vpn++) {
    const pte = pteAt(entryOf(space, vpn));
    if ((pte & PTE_MERGEABLE) && ((pte & PTE_ZERO) || frameNode(ptePfn(pte)) != 0)) n++;
  }
  return n;
}

/** Gives mergeable KSM and KSM-zero pages of the range private copies; blocks reserved. */
function unshareRange(space: u32, first: u32, count: u32): void {
  for (let vpn = first; vpn < first + count; vpn++) {
    const entry = entryOf(space, vpn);
    const pte = pteAt(entry);
    if (!(pte & PTE_MERGEABLE)) continue;
    if (pte & PTE_ZERO) {
      remapPrivate(space, entry, FILL_ZERO); // a zero page's unshare is not a cow_ksm
    } else if (frameNode(ptePfn(pte)) != 0) {
      addCounter(C_COW_KSM, 1);
      remapPrivate(space, entry, FILL_COPY);
    }
  }
}

export function madviseMergeable(space: u32, first: u32, count: u32): void {
  let changed = false;
  for (let vpn = first; vpn < first + count; vpn++) {
    const entry = entryOf(space, vpn);
    const pte = pteAt(entry);
    if ((pte & PTE_MAPPED) && !(pte & PTE_MERGEABLE)) {
      setPte(entry, pte | PTE_MERGEABLE);
      addSpaceField(space, S_MERGEABLE, 1);
      changed = true;
    }
  }
  if (changed) registerSpace(space);
}

/** MADV_UNMERGEABLE: private copies now; rmap items and KSM counters wait for ksmd. */
export function madviseUnmergeable(space: u32, first: u32, count: u32): i32 {
  if (!reserveFrames(unshareCount(space, first, count))) return E_NOMEM;
  unshareRange(space, first, count);
  for (let vpn = first; vpn < first + count; vpn++) {
    const entry = entryOf(space, vpn);
    const pte = pteAt(entry);
    if (pte & PTE_MERGEABLE) {
      setPte(entry, pte & ~PTE_MERGEABLE);
      addSpaceField(space, S_MERGEABLE, -1);
    }
  }
  return 0;
}

export function madviseDontneed(space: u32, first: u32, count: u32): void {
  for (let vpn = first; vpn < first + count; vpn++) {
    const entry = entryOf(space, vpn);
    forgetChecksum(entry);
    dropMapping(space, entry);
  }
}

export function unmapPages(space: u32, first: u32, count: u32): void {
  for (let vpn = first; vpn < first + count; vpn++) {
    const entry = entryOf(space, vpn);
    forgetChecksum(entry);
    dropMapping(space, entry);
    if (pteAt(entry) & PTE_MERGEABLE) addSpaceField(space, S_MERGEABLE, -1);
    setPte(entry, 0);
  }
}

/** prctl(PR_SET_MEMORY_MERGE, on). */
export function setMergeAny(space: u32, on: bool): i32 {
  if (hasFlag(space, SPACE_MERGE_ANY) == on) return 0;
  const pages = spacePages(space);
  if (on) {
    registerSpace(space);
    setFlag(space, SPACE_MERGE_ANY, true);
    madviseMergeable(space, 0, pages);
    return 0;
  }
  const status = madviseUnmergeable(space, 0, pages);
  if (status == 0) setFlag(space, SPACE_MERGE_ANY, false);
  return status;
}

// ---- fork, exit -----------------------------------------------------------------------------------

/** fork(): a child sharing every frame copy-on-write. Returns its id, or 0 if no memory. */
export function forkSpace(parent: u32): u32 {
  const pages = spacePages(parent);
  const child = newSpace(pages, spaceField(parent, S_DOMAIN)); // fork keeps the parent's domain
  if (child == 0) return 0;
  for (let vpn: u32 = 0; vpn < pages; vpn++) {
    const pte = pteAt(entryOf(parent, vpn));
    setPte(entryOf(child, vpn), pte);
    const pfn = ptePfn(pte);
    if (pfn != 0) mapFrame(pfn);
    if (pte & PTE_ZERO) {
      addCounter(C_ZERO_PAGES, 1);
      addSpaceField(child, S_ZERO, 1);
    }
    if (pte & PTE_SPLIT_ZERO) addCounter(C_SPLIT_ZERO_PAGES, 1);
    if (pfn != 0 || (pte & (PTE_ZERO | PTE_SPLIT_ZERO))) addCounter(C_MAPPED_PAGES, 1);
    if ((pte & PTE_FLAGS) == PTE_FLAGS) addSpaceField(child, S_MERGEABLE, 1);
  }
  copyLeafFlags(parent, child);
  if (hasFlag(parent, SPACE_MERGE_ANY)) setFlag(child, SPACE_MERGE_ANY, true);
  if (hasFlag(parent, SPACE_REGISTERED)) registerSpace(child);
  return child;
}

/** exit(): mappings go now; the slot is freed now if it has no rmap items, else ksmd cleans it up. */
export function exitSpace(space: u32): void {
  setFlag(space, SPACE_EXITING, true);
  for (let vpn: u32 = 0, pages = spacePages(space); vpn < pages; vpn++) {
    const entry = entryOf(space, vpn);
    dropMapping(space, entry);
    setPte(entry, 0);
  }
  dropLeafFlags(space);
  setSpaceField(space, S_MERGEABLE, 0);
  if (!hasFlag(space, SPACE_REGISTERED) || slotOnExit(space)) freeSpaceTables(space);
}

// ---- run=2 ----------------------------------------------------------------------------------------

/**
 * run=2: every KSM and KSM-zero page of every slot gets a private copy, every rmap item and stable
 * node goes, full_scans = 0. Returns E_NOMEM (nothing done) if the copies do not fit.
 */
export function unmergeAll(): i32 {
  let need: u32 = 0;
  for (let s = slotNext(HEAD); s != HEAD; s = slotNext(s)) {
    if (!hasFlag(s, SPACE_EXITING)) need += unshareCount(s, 0, spacePages(s));
  }
  if (!reserveFrames(need)) return E_NOMEM;
  let space = slotNext(HEAD);
  while (space != HEAD) {
    const following = slotNext(space);
    const exiting = hasFlag(space, SPACE_EXITING);
    if (!exiting) unshareRange(space, 0, spacePages(space));
    freeAllItems(space);
    if (exiting) {
      removeSlot(space);
      freeSpaceTables(space);
    }
    space = following;
  }
  removeAllStableNodes();
  resetUnstableTrees();
  setCounter(C_FULL_SCANS, 0);
  setCursor(HEAD, 0, false);
  return 0;
}

/** The flags word of a space (for the driver's ksm_stat). */
export function spaceFlags(space: u32): u32 { return spaceField(space, S_FLAGS); }
