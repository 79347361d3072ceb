// DOC: Overview
//
// ksmd's work, as Linux does it (mm/ksm.c), on the spaces of one linear memory.
//
// Why two trees: pages are ordered by content, but ordinary pages keep changing, so a tree of them
// cannot be kept in order. KSM keeps two: the stable tree holds KSM pages, which are write-protected
// and cannot change, so its order holds; the unstable tree holds ordinary pages and is only
// trusted for one pass. Four rules make the unstable tree usable:
//   1) it is emptied at the start of every full pass and rebuilt as the pass goes;
//   2) a page enters it only if its checksum did not change since the previous visit, so pages
//      that keep changing stay out (and no page merges on its first visit);
//   3) it is a red-black tree, balanced by colour, so a page changing under it cannot unbalance it;
//   4) the stable tree is searched first, and every match is a full compare.
//
// What differs from the kernel: there are no page-table locks, pins or races, so a merge fails
// only where a huge page's split takes the page itself away (thp.ts); writes come through the API,
// so an item remembers whether its
// page was written since its checksum was taken (ITEM_CLEAN) and an unwritten page is not hashed
// again; nor does it search the stable tree again where that search would find nothing and change
// nothing (stable-generation.ts). The counters are the kernel's, at the kernel's moments.
import {
  C_FULL_SCANS, C_PAGES_SCANNED, C_PAGES_SKIPPED, C_ZERO_PAGES, E_NOMEM, ITEM_CLEAN, ITEM_MISSED_BOTH, ITEM_SKIPPED,
  PTE_MAPPED, PTE_MERGEABLE, PTE_ZERO, S_ZERO,
} from './layout';
import { ensureItemArea, frameNode, mapFrame, reserveRecords, unmapFrame } from './alloc';
import { addCounter } from './counters';
import { CONTENTS_HAVE_KEYS, ZERO_PFN, contentsAreZero, contentsChecksum, contentsKey } from './contents';
import {
  HEAD, addSpaceField, entryOf, freeSpaceTables, isExiting, isScannable, isWholeHuge, itemAt, leafOf,
  pteAt, ptePfn, removeSlot, setPte, slotNext, spacePages,
} from './spaces';
import { splitForMerge, splitHugePage } from './thp';
import {
  freeItem, isStable, itemChecksum, itemEntry, itemFlags, itemKey, itemNode, itemAge, itemSkips, newItem,
  removeRmapItemFromTree, setItemAge, setItemChecksum, setItemFlags, setItemKey, setItemSkips, stableTreeAppend,
  nodeKpfn,
} from './rmap';
import { searchWasQuietMiss, stableTreeInsert, stableTreeSearch } from './stable';
import { quietMissCarriesOver, quietMissNote, stablePassStarts } from './stable-generation';
import { unstableTreeSearchInsert } from './unstable';
import { resetUnstableTrees, spaceDomain } from './domains';
import { warmAhead } from './lookahead';
import {
  cursorSeenMergeable, cursorSpace, cursorVpn, markSeenMergeable, setCursor, setCursorVpn, smartScan,
  useZeroPages, zeroChecksum,
} from './state';

/** Records one page's processing may need: a stable node and a chain (its item has its place in the item area). */
const RECORDS_PER_PAGE: u32 = 2;

/** Status of the last batch: 0, or E_NOMEM when it stopped for lack of records. */
export let batchStatus: i32 = 0;
/** The last batch ended a full pass. */
export let batchEndedPass: bool = false;

/** One batch of up to `budget` pages (ksm_do_scan). Returns the pages processed. */
export function scanBatch(budget: u32): u32 {
  batchStatus = 0;
  batchEndedPass = false;
  let scanned: u32 = 0;
  while (scanned < budget) {
    const entry = scanGetNextRmapItem();
    if (entry == 0) break;
    if (FINGERPRINTS) warmAhead(cursorSpace, cursorVpn - 1);
    cmpAndMergePage(cursorSpace, entry);
    addCounter(C_PAGES_SCANNED, 1);
    scanned++;
  }
  return scanned;
}

/**
 * The cursor (scan_get_next_rmap_item): returns the entry of the next page to process, with its
 * rmap item, or 0 at the end of a pass (full_scans++, batchEndedPass) or when there is nothing to
 * scan. Items of pages passed over are freed on the way.
 */
function scanGetNextRmapItem(): u32 {
  if (slotNext(HEAD) == HEAD) return 0;
  if (cursorSpace == HEAD) {
    resetUnstableTrees();
    stablePassStarts();
    setCursor(slotNext(HEAD), 0, false);
  }
  while (true) {
    const space = cursorSpace;
    if (!isExiting(space)) {
      const entry = nextPageOfSlot(space);
      if (entry != 0 || batchStatus != 0) return entry;
    } else {
      freeAllItems(space);
      setCursor(space, spacePages(space), false);
    }
    // The end of this slot: drop it if it had nothing mergeable, then go on with the next.
    const following = slotNext(space);
    if (!cursorSeenMergeable) {
      removeSlot(space);
      if (isExiting(space)) freeSpaceTables(space);
    }
    setCursor(following, 0, false);
    if (following == HEAD) {
      addCounter(C_FULL_SCANS, 1);
      batchEndedPass = true;
      return 0;
    }
  }
}

/** Walks the cursor's slot from the cursor; returns the next page to process, or 0 at its end. */
function nextPageOfSlot(space: u32): u32 {
  const pages = spacePages(space);
  while (cursorVpn < pages) {
    const vpn = cursorVpn;
    const entry = entryOf(space, vpn);
    const pte = pteAt(entry);
    if ((pte & (PTE_MAPPED | PTE_MERGEABLE)) == (PTE_MAPPED | PTE_MERGEABLE)) markSeenMergeable();
    let item = itemAt(entry);
    if (!isScannable(pte)) {
      if (item != 0) freeItem(item);
      setCursorVpn(vpn + 1);
      continue;
    }
    if (!reserveRecords(RECORDS_PER_PAGE) || !ensureItemArea(entry)) { batchStatus = E_NOMEM; return 0; }
    if (item == 0) item = newItem(space, entry);
    setCursorVpn(vpn + 1);
    // What the item's last visit noted (a smart_scan skip, a quiet stable miss) ends with this
    // visit, whatever path it takes; a skip or a search notes again. Written only when set: a
    // steady pass over merged pages then writes none of their items.
    const flags = itemFlags(item);
    visitStartFlags = flags;
    if (flags & (ITEM_SKIPPED | ITEM_MISSED_BOTH)) setItemFlags(item, flags & ~(ITEM_SKIPPED | ITEM_MISSED_BOTH));
    if (smartScan && frameNode(ptePfn(pte)) == 0 && shouldSkipRmapItem(item)) continue;
    return entry;
  }
  return 0;
}

/** The item's flags as the current visit found them (nextPageOfSlot), before it cleared the last visit's notes. */
let visitStartFlags: u8 = 0;

/** smart_scan: pages that keep failing to merge are visited less and less often (by age). */
function shouldSkipRmapItem(item: u32): bool {
  const age = itemAge(item);
  if (age < 255) setItemAge(item, age + 1);
  if (age < 3) return false;
  const skips = itemSkips(item);
  if (skips == 0) {
    setItemSkips(item, age <= 3 ? 1 : age <= 5 ? 2 : age <= 8 ? 4 : 8);
    return false;
  }
  setItemSkips(item, skips - 1);
  addCounter(C_PAGES_SKIPPED, 1);
  removeRmapItemFromTree(item);
  setItemFlags(item, itemFlags(item) | ITEM_SKIPPED);
  return true;
}

/** Frees every rmap item of a space (an exiting space, or run=2). */
export function freeAllItems(space: u32): void {
  for (let vpn: u32 = 0, pages = spacePages(space); vpn < pages; vpn++) {
    const entry = entryOf(space, vpn);
    const item = itemAt(entry);
    if (item != 0) freeItem(item);
  }
}

/**
 * cmp_and_merge_page: one page's whole treatment. The checksum rule first, then the stable tree,
 * then the unstable tree; a match there makes a new KSM page of this page. Every merge attempt
 * first splits the page's huge page (thp.ts); when that maps the page itself to the zero page, the
 * merge fails: after the zero-page merge the searches go on with the page's old contents (zeros),
 * as the kernel's do with the page it still holds; after a stable match the page is done. Both
 * trees searched are those of the space's sharing domain.
 */
function cmpAndMergePage(space: u32, entry: u32): void {
  const item = itemAt(entry);
  const pfn = ptePfn(pteAt(entry));
  let contents = pfn;
  const domain = spaceDomain(space);
  const ownNode = frameNode(pfn);
  if (ownNode != 0) {
    if (isStable(item) && itemNode(item) == ownNode) return; // merged already: nothing to do
  } else {
    removeRmapItemFromTree(item);
    if (!checksumUnchanged(item, pfn)) return;
    if (useZeroPages && itemChecksum(item) == zeroChecksum && contentsAreZero(pfn)) {
      if (splitForMerge(entry)) {
        mapZeroPage(space, entry);
        return;
      }
      contents = ZERO_PFN;
    }
  }
  const key = descentKey(item, contents, pfn);
  const found = ownNode == 0 && contents == pfn && quietMissCarriesOver(visitStartFlags) ? noteQuietMiss(item, 0) : searchStable(item, contents, key, domain, pfn);
  if (found != 0 && nodeKpfn(found) == pfn && isStable(item) && itemNode(item) == found) return;
  removeRmapItemFromTree(item);
  if (found != 0) {
    // After a stable match the page is done, merged or not (a split may have taken it away).
    if (contents == pfn && splitForMerge(entry)) {
      replacePage(entry, nodeKpfn(found));
      stableTreeAppend(item, found);
    }
    return;
  }
  const tree = unstableTreeSearchInsert(item, contents, key, domain);
  if (tree == 0 || contents != pfn) return;
  const treeEntry = itemEntry(tree);
  if (isWholeHuge(entry) && leafOf(entry) == leafOf(treeEntry)) {
    // Both pages in one huge page: its split fails under the merge, which fails; ksmd splits it then.
    splitHugePage(entry);
    return;
  }
  if (!splitForMerge(entry)) return;
  splitForMerge(treeEntry); // it survives: its contents equal this page's, which are not all zero
  mergeTwoPages(item, entry, tree, domain);
}

/** stableTreeSearch; a quiet miss of the page's own contents is noted in the item for the next pass. */
function searchStable(item: u32, contents: u32, key: u32, domain: u32, pfn: u32): u32 {
  const found = stableTreeSearch(contents, key, domain);
  return searchWasQuietMiss && contents == pfn ? noteQuietMiss(item, found) : found;
}

/** Notes a quiet miss of this pass in the item (a search left out counts as one); returns `found`. */
function noteQuietMiss(item: u32, found: u32): u32 {
  setItemFlags(item, itemFlags(item) | quietMissNote());
  return found;
}

/**
 * The key the descents order `contents` by: the item's own when it is that of the page's current
 * contents (ITEM_CLEAN), so that a page whose key no node shares is never loaded; else read from
 * the contents.
 */
@inline function descentKey(item: u32, contents: u32, pfn: u32): u32 {
  if (CONTENTS_HAVE_KEYS && contents == pfn && (itemFlags(item) & ITEM_CLEAN)) return itemKey(item);
  return contentsKey(contents);
}

/**
 * Computes the checksum (unless the page was not written since) and stores it; true if unchanged.
 * The key is kept too: the contents were just read, so later descents need not read the page
 * again for it.
 */
function checksumUnchanged(item: u32, pfn: u32): bool {
  const flags = itemFlags(item);
  if (flags & ITEM_CLEAN) return true;
  const checksum = contentsChecksum(pfn);
  if (CONTENTS_HAVE_KEYS) setItemKey(item, contentsKey(pfn));
  setItemFlags(item, flags | ITEM_CLEAN);
  if (checksum == itemChecksum(item)) return true;
  setItemChecksum(item, checksum);
  return false;
}

/** use_zero_pages: the entry maps the KSM zero page instead of its all-zero frame. */
function mapZeroPage(space: u32, entry: u32): void {
  const pte = pteAt(entry);
  unmapFrame(ptePfn(pte));
  setPte(entry, (pte & (PTE_MAPPED | PTE_MERGEABLE)) | PTE_ZERO);
  addCounter(C_ZERO_PAGES, 1);
  addSpaceField(space, S_ZERO, 1);
}

/** The entry maps KSM page `kpfn` instead of its frame (same content), which loses a mapping. */
function replacePage(entry: u32, kpfn: u32): void {
  const pte = pteAt(entry);
  const old = ptePfn(pte);
  if (old == kpfn) return;
  mapFrame(kpfn);
  setPte(entry, (pte & ~ptePfn(pte)) | kpfn);
  unmapFrame(old);
}

/**
 * The two-page merge: the scanned page becomes a KSM page in place, the tree item's entry maps it
 * too, and a new stable node takes both items (the tree's first: it becomes the "shared" one).
 */
function mergeTwoPages(item: u32, entry: u32, tree: u32, domain: u32): void {
  const kpfn = ptePfn(pteAt(entry));
  removeRmapItemFromTree(tree);
  replacePage(itemEntry(tree), kpfn);
  const node = stableTreeInsert(kpfn, domain);
  stableTreeAppend(tree, node);
  stableTreeAppend(item, node);
}
