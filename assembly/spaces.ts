// Address spaces: the space table, page tables, and the scanner's slot list (the kernel's mm_slot
// list). Space 0 is the list's head.
import {
  C_HUGE_PAGES, C_MAPPED_PAGES, C_SPLIT_ZERO_PAGES, C_ZERO_PAGES, ENTRY_SIZE, E_PTE, I_FLAGS, ITEM_AREA_HALF, ITEM_LIVE,
  ITEM_SIZE, LEAF_BYTES, LEAF_ENTRIES, LEAF_SHIFT, LEAF_WHOLE_HUGE, MAX_SPACES, MAX_SPACE_PAGES, PAGE_SIZE, PTE_MAPPED, PTE_MERGEABLE, PTE_PFN_MASK,
  PTE_SPLIT_ZERO, PTE_ZERO, SPACES_LOCATION,
  SPACE_ALIVE, SPACE_EXITING, SPACE_MERGE_ANY, SPACE_REGISTERED, SPACE_SIZE, S_DIR, S_FLAGS,
  S_DOMAIN, S_MERGEABLE, S_NEXT, S_PAGES, S_PREV, S_RMAP_ITEMS, S_ZERO,
} from './layout';
import { allocTableBlock, freeItemArea, freeTableBlock, initLeafPair, itemAreaOf, leafFlags, pairOfItem, reserveBlocks, setLeafFlags, unmapFrame } from './alloc';
import { addCounter } from './counters';
import { cursorSpace, runUnmerge } from './state';

export const HEAD: u32 = 0;

@inline export function spaceAt(id: u32): u32 { return SPACES_LOCATION + id * SPACE_SIZE; }
@inline export function spaceField(id: u32, field: u32): u32 { return load<u32>(spaceAt(id) + field); }
@inline export function setSpaceField(id: u32, field: u32, value: u32): void { store<u32>(spaceAt(id) + field, value); }
@inline export function addSpaceField(id: u32, field: u32, delta: i32): void {
  const at = spaceAt(id) + field;
  store<i32>(at, load<i32>(at) + delta);
}
@inline export function hasFlag(id: u32, flag: u32): bool { return (spaceField(id, S_FLAGS) & flag) != 0; }
@inline export function setFlag(id: u32, flag: u32, on: bool): void {
  const flags = spaceField(id, S_FLAGS);
  setSpaceField(id, S_FLAGS, on ? flags | flag : flags & ~flag);
}
@inline export function spacePages(id: u32): u32 { return spaceField(id, S_PAGES); }

/** The page-table entry of (space, vpn): its pte (E_PTE). */
@inline export function entryOf(id: u32, vpn: u32): u32 {
  return leafAt(id, vpn) + (vpn & (LEAF_ENTRIES - 1)) * ENTRY_SIZE;
}
@inline export function pteAt(entry: u32): u32 { return load<u32>(entry, E_PTE); }
/** The leaf (512 entries, half a block: one huge page's span) holding an entry. */
@inline export function leafOf(entry: u32): u32 { return entry & ~(LEAF_BYTES - 1); }
/** The entry's page is a subpage of a whole transparent huge page. */
@inline export function isWholeHuge(entry: u32): bool { return (leafFlags(leafOf(entry)) & LEAF_WHOLE_HUGE) != 0; }
/** The leaf of page `vpn` (of a space's directory). */
@inline export function leafAt(id: u32, vpn: u32): u32 { return load<u32>(spaceField(id, S_DIR) + ((vpn >> LEAF_SHIFT) << 2)); }
/**
 * Some page-table entry stopped being scannable since this pass's unstable trees were emptied
 * (resetUnstableTrees clears it). Every store of an entry goes through setPte, so while it is
 * false every item in an unstable tree still maps a present page (a write clears the item's
 * ITEM_CLEAN instead), and a descent may pass a clean node by its key alone (unstable.ts).
 */
export let entryLostThisPass = false;
export function startPassEntries(): void { entryLostThisPass = false; }
@inline export function setPte(entry: u32, pte: u32): void {
  if (!isScannable(pte)) entryLostThisPass = true;
  store<u32>(entry, pte, E_PTE);
}
/**
 * The place of the entry's rmap item in its leaf pair's item area (which must exist): the pair's
 * first leaf's items, then its second's, in page order.
 */
@inline export function itemPlace(entry: u32): u32 { return placeIn(itemAreaOf(entry), entry); }
@inline function placeIn(area: u32, entry: u32): u32 {
  const offset = entry & (PAGE_SIZE - 1);
  return area + (offset / LEAF_BYTES) * ITEM_AREA_HALF + ((offset & (LEAF_BYTES - 1)) / ENTRY_SIZE) * ITEM_SIZE;
}
/** The page-table entry whose item's place is `item` (itemPlace the other way). */
@inline export function entryOfPlace(item: u32): u32 {
  const pair = pairOfItem(item);
  const offset = item - itemAreaOf(pair);
  const half = offset / ITEM_AREA_HALF;
  return pair + half * LEAF_BYTES + ((offset - half * ITEM_AREA_HALF) / ITEM_SIZE) * ENTRY_SIZE;
}
/** The entry's rmap item, or 0. */
@inline export function itemAt(entry: u32): u32 {
  const area = itemAreaOf(entry);
  if (area == 0) return 0;
  const place = placeIn(area, entry);
  return (load<u8>(place, I_FLAGS) & ITEM_LIVE) != 0 ? place : 0;
}
@inline export function ptePfn(pte: u32): u32 { return pte & PTE_PFN_MASK; }
/** Mapped, mergeable and present with a frame: what the scanner returns. */
@inline export function isScannable(pte: u32): bool {
  return (pte & (PTE_MAPPED | PTE_MERGEABLE)) == (PTE_MAPPED | PTE_MERGEABLE) && ptePfn(pte) != 0;
}

// Ids are handed out in increasing order and reused only after wrapping, so a closed space's id
// does not come back soon for another space.
let nextId: u32 = 1;

function findFreeId(): u32 {
  for (let i: u32 = 0; i < MAX_SPACES - 1; i++) {
    const id = nextId;
    nextId = nextId + 1 >= MAX_SPACES ? 1 : nextId + 1;
    if (!hasFlag(id, SPACE_ALIVE) && spaceField(id, S_DIR) == 0) return id;
  }
  return 0;
}

@inline function leafCount(pages: u32): u32 { return (pages + LEAF_ENTRIES - 1) >> LEAF_SHIFT; }
/** Blocks of leaf pairs for `pages` pages. */
@inline function pairCount(pages: u32): u32 { return (leafCount(pages) + 1) >> 1; }

/** Blocks a space of `pages` pages needs for its page tables. */
export function tableBlocks(pages: u32): u32 { return 1 + pairCount(pages); }

/** A new space of sharing domain `domain`, all pages mapped and absent; 0 if no id or memory is left. */
export function newSpace(pages: u32, domain: u32): u32 {
  if (DEBUG) assert(pages > 0 && pages <= MAX_SPACE_PAGES); // checked by the driver
  const id = findFreeId();
  if (id == 0 || !reserveBlocks(tableBlocks(pages))) return 0;
  memory.fill(spaceAt(id), 0, SPACE_SIZE);
  setSpaceField(id, S_DIR, allocTableBlock());
  setSpaceField(id, S_FLAGS, SPACE_ALIVE);
  setSpaceField(id, S_DOMAIN, domain);
  extendTables(id, 0, pages);
  return id;
}

/** Pages [from, to) of space `id` get their leaves (those not there yet) and are mapped and absent; blocks reserved. */
function extendTables(id: u32, from: u32, to: u32): void {
  const dir = spaceField(id, S_DIR);
  for (let i = leafCount(from), n = leafCount(to); i < n; i++) {
    // An even leaf starts a pair block; an odd one is the second half of the block before it.
    let leaf: u32;
    if ((i & 1) == 0) {
      leaf = allocTableBlock();
      initLeafPair(leaf, id);
    } else {
      leaf = load<u32>(dir + ((i - 1) << 2)) + LEAF_BYTES;
    }
    store<u32>(dir + (i << 2), leaf);
  }
  setSpaceField(id, S_PAGES, to);
  for (let vpn = from; vpn < to; vpn++) setPte(entryOf(id, vpn), PTE_MAPPED);
}

/**
 * The space grows to `pages` pages (more than it has, at most MAX_SPACE_PAGES): the new pages are
 * mapped and absent, as a new space's, at the end (mremap growing a mapping in place). False if
 * the blocks for its new leaves cannot be had; then nothing changed.
 */
export function growSpace(id: u32, pages: u32): bool {
  const old = spacePages(id);
  if (DEBUG) assert(pages > old && pages <= MAX_SPACE_PAGES); // checked by the driver
  if (!reserveBlocks(pairCount(pages) - pairCount(old))) return false;
  extendTables(id, old, pages);
  return true;
}

/** Frees the page tables of a space that has exited and left the slot list. */
export function freeSpaceTables(id: u32): void {
  const dir = spaceField(id, S_DIR);
  for (let i: u32 = 0, n = leafCount(spacePages(id)); i < n; i++) {
    const leaf = load<u32>(dir + (i << 2));
    if (leafFlags(leaf) & LEAF_WHOLE_HUGE) addCounter(C_HUGE_PAGES, -1);
    setLeafFlags(leaf, 0);
    if (i + 1 < n && (i & 1) == 0) continue; // the pair block goes with its second leaf
    freeItemArea(leaf);
    initLeafPair(leaf & ~(PAGE_SIZE - 1), 0);
    freeTableBlock(leaf & ~(PAGE_SIZE - 1));
  }
  freeTableBlock(dir);
  setSpaceField(id, S_DIR, 0);
  setSpaceField(id, S_FLAGS, 0);
}

/** Drops whatever the entry maps (a frame or the KSM zero page); the pte keeps its flags. */
export function dropMapping(id: u32, entry: u32): void {
  const pte = pteAt(entry);
  const pfn = ptePfn(pte);
  if (pfn != 0) {
    unmapFrame(pfn);
    addCounter(C_MAPPED_PAGES, -1);
  } else if (pte & PTE_ZERO) {
    addCounter(C_ZERO_PAGES, -1);
    addSpaceField(id, S_ZERO, -1);
    addCounter(C_MAPPED_PAGES, -1);
  } else if (pte & PTE_SPLIT_ZERO) {
    addCounter(C_SPLIT_ZERO_PAGES, -1);
    addCounter(C_MAPPED_PAGES, -1);
  }
  setPte(entry, pte & (PTE_MAPPED | PTE_MERGEABLE));
}

// ---- the slot list --------------------------------------------------------------------------------

@inline export function slotNext(id: u32): u32 { return spaceField(id, S_NEXT); }

function linkSlotBefore(id: u32, before: u32): void {
  const prev = spaceField(before, S_PREV);
  setSpaceField(id, S_PREV, prev);
  setSpaceField(id, S_NEXT, before);
  setSpaceField(prev, S_NEXT, id);
  setSpaceField(before, S_PREV, id);
}

function unlinkSlot(id: u32): void {
  const prev = spaceField(id, S_PREV);
  const next = spaceField(id, S_NEXT);
  setSpaceField(prev, S_NEXT, next);
  setSpaceField(next, S_PREV, prev);
}

/** Gives a space a slot: behind the cursor (so it is first scanned in the next pass), or at the tail while run=2. */
export function registerSpace(id: u32): void {
  if (hasFlag(id, SPACE_REGISTERED)) return;
  linkSlotBefore(id, runUnmerge ? HEAD : cursorSpace);
  setFlag(id, SPACE_REGISTERED, true);
}

/** Takes a space off the slot list (registered and merge-any are cleared, as the kernel does). */
export function removeSlot(id: u32): void {
  unlinkSlot(id);
  setFlag(id, SPACE_REGISTERED | SPACE_MERGE_ANY, false);
}

/** exit() of a registered space: the slot is freed now if it has no rmap items, else moved just after the cursor. */
export function slotOnExit(id: u32): bool {
  if (id == cursorSpace) return false;
  if (spaceField(id, S_RMAP_ITEMS) == 0) {
    removeSlot(id);
    return true;
  }
  unlinkSlot(id);
  linkSlotBefore(id, slotNext(cursorSpace));
  return false;
}

export function isExiting(id: u32): bool { return hasFlag(id, SPACE_EXITING); }
