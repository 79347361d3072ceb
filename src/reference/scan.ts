/**
 * The scanner (ksmd): the slot list and its cursor, the walk that hands out the next page
 * (scanGetNextRmapItem), and the merge policy (cmpAndMergePage).
 *
 * Overview (after the kernel's): identical pages are found with two trees. The stable tree holds
 * the KSM pages, which are write-protected and so keep their content; it is searched first. The
 * unstable tree holds pages that are not shared yet. Their content can change at any moment, so
 * the tree is only a guess: a page enters it only once its checksum held still between two visits,
 * every compare re-reads the page, the tree is rebuilt from empty every pass, and a match is
 * confirmed by a full compare before the merge. Red-black colours keep it balanced even when its
 * order is broken. A match turns the scanned page into a new KSM page in place and maps it in
 * place of the tree page.
 *
 * Differences from the kernel: pages are addressed as (space, page number) instead of VMAs and
 * PTEs, a merge fails only where a huge page's split takes the page itself away (thp.ts; there are
 * no locks or pins), and copy-on-write happens in `write`.
 */

import { HUGE_PAGE_PAGES, type BatchResult } from '../backend.js';
import { setPte, setZeroPte, isZeroPage } from './memory.js';
import { Frame, ItemState, KsmState, RmapItem, Slot, type Space } from './records.js';
import { splitForMerge, splitHugePage } from './thp.js';
import type { StableTree } from './stable.js';
import type { UnstableTree } from './unstable.js';
import { xxh64Low32 } from './xxh64.js';

const ZERO_CHECKSUM = xxh64Low32(new Uint8Array(4096));
/** What the trees compare once a split took a zero-filled page away: its old contents, zeros. */
const ZERO_CONTENTS = new Frame(-1);

export class Scanner {
  readonly head = new Slot(null);
  /** The cursor: its slot (the head between passes), the next page, and whether the slot has
   * shown a mergeable page so far in this walk. */
  cursor: Slot = this.head;
  private vpn = 0;
  private seen = false;
  slots = 0;

  constructor(
    private readonly st: KsmState,
    private readonly stable: StableTree,
    private readonly unstable: UnstableTree,
  ) {}

  // ---- The slot list.

  /** Register `space`: its slot goes just before the cursor's slot (the tail between passes), or
   * to the tail while run=2. */
  addSlot(space: Space): void {
    const slot = new Slot(space);
    space.slot = slot;
    linkBefore(slot, this.st.knobs.runUnmerge ? this.head : this.cursor);
    this.slots++;
  }

  /** exit() of a registered space: the cursor's slot stays; else free the slot now if it has no
   * items, or move it just after the cursor so the scanner frees them soon. */
  exitSlot(space: Space): void {
    const slot = space.slot as Slot;
    if (slot === this.cursor) return;
    if (space.rmapItems === 0) {
      this.removeSlot(slot);
      return;
    }
    unlink(slot);
    linkBefore(slot, this.cursor.next);
  }

  /** Take a slot out of the list; a live space is no longer registered nor merge-any. */
  removeSlot(slot: Slot): void {
    const space = slot.space as Space;
    unlink(slot);
    space.slot = null;
    space.mergeAny = false;
    this.slots--;
  }

  /** run=2 and friends: the cursor goes back to the head. */
  resetCursor(): void {
    this.cursor = this.head;
    this.vpn = 0;
    this.seen = false;
  }

  // ---- ksmd.

  /** One batch of up to `budget` pages; it ends early at the end of a pass. */
  scanBatch(budget: number): BatchResult {
    if (this.head.next === this.head) return { scanned: 0, passEnded: false, status: 0, noSlots: true };
    let scanned = 0; // (a non-empty list stays non-empty until a pass ends)
    while (scanned < budget) {
      const item = this.scanGetNextRmapItem();
      if (item === null) return { scanned, passEnded: true, status: 0, noSlots: this.head.next === this.head };
      this.cmpAndMergePage(item);
      this.st.counters.pagesScanned++;
      scanned++;
    }
    return { scanned, passEnded: false, status: 0, noSlots: false };
  }

  /** The next page to process, or null when the pass has just ended (full_scans went up) or there
   * is no slot at all. */
  scanGetNextRmapItem(): RmapItem | null {
    if (this.cursor === this.head) {
      if (this.head.next === this.head) return null; // no slot: no pass at all
      this.unstable.reset();
      this.enterSlot(this.head.next);
    }
    for (;;) {
      const item = this.walkSlot();
      if (item !== null) return item;
      if (this.leaveSlot()) return null;
    }
  }

  private enterSlot(slot: Slot): void {
    this.cursor = slot;
    this.vpn = 0;
    this.seen = false;
  }

  /** Walk the cursor's slot from the cursor: the next page to process, or null at its end. */
  private walkSlot(): RmapItem | null {
    const space = this.cursor.space as Space;
    if (space.exiting) {
      this.freeAllRmapItems(space);
      this.vpn = space.pages;
      return null;
    }
    for (let vpn = this.vpn; vpn < space.pages; vpn++) {
      const mergeable = space.isMergeable(vpn);
      if (mergeable) this.seen = true;
      const frame = mergeable ? space.frames[vpn] : null;
      let item = space.items[vpn];
      if (frame === null) { // passed over: not mapped, not mergeable, absent, or the zero page
        if (item !== null) this.freeRmapItem(item);
        continue;
      }
      if (item === null) item = this.allocRmapItem(space, vpn);
      this.vpn = vpn + 1;
      if (this.shouldSkipRmapItem(item, frame)) continue;
      return item;
    }
    this.vpn = space.pages;
    return null;
  }

  /** End of the cursor's slot: drop it if it showed no mergeable page (or its space exited),
   * then move on. True if that ended the pass. */
  private leaveSlot(): boolean {
    const slot = this.cursor;
    const next = slot.next;
    if (!this.seen || (slot.space as Space).exiting) this.removeSlot(slot);
    if (next === this.head) {
      this.resetCursor();
      this.st.counters.fullScans++;
      return true;
    }
    this.enterSlot(next);
    return false;
  }

  /** smart_scan: true if this visit of a non-KSM page is skipped (its item leaves its tree). */
  private shouldSkipRmapItem(item: RmapItem, frame: Frame): boolean {
    item.skipped = false;
    if (!this.st.knobs.smartScan || frame.stableNode !== null) return false;
    const age = item.age;
    if (item.age < 255) item.age++;
    if (age < 3) return false;
    if (item.remainingSkips === 0) {
      item.remainingSkips = age <= 3 ? 1 : age <= 5 ? 2 : age <= 8 ? 4 : 8;
      return false;
    }
    item.remainingSkips--;
    item.skipped = true;
    this.st.counters.pagesSkipped++;
    this.removeRmapItemFromTree(item);
    return true;
  }

  // ---- Rmap items.

  private allocRmapItem(space: Space, vpn: number): RmapItem {
    const item = new RmapItem(space, vpn);
    space.items[vpn] = item;
    space.rmapItems++;
    this.st.counters.rmapItems++;
    return item;
  }

  /** Take `item` out of its tree and free it. */
  freeRmapItem(item: RmapItem): void {
    this.removeRmapItemFromTree(item);
    item.space.items[item.vpn] = null;
    item.space.rmapItems--;
    this.st.counters.rmapItems--;
  }

  /** Free every rmap item of `space`, in page order (exit, run=2). */
  freeAllRmapItems(space: Space): void {
    for (let vpn = 0; vpn < space.pages && space.rmapItems > 0; vpn++) {
      const item = space.items[vpn];
      if (item !== null) this.freeRmapItem(item);
    }
  }

  removeRmapItemFromTree(item: RmapItem): void {
    if (item.state === ItemState.Stable) this.stable.removeStableItem(item);
    else if (item.state === ItemState.Unstable) this.unstable.removeUnstableItem(item);
  }

  // ---- The merge policy.

  /**
   * Process one page: a KSM page already on its node is done; otherwise a page whose checksum
   * changed since the last visit is only noted; a steady page is merged into an equal KSM page
   * (stable tree), or with an equal unstable page into a new KSM page, or enters the unstable tree.
   */
  cmpAndMergePage(item: RmapItem): void {
    const space = item.space;
    const page = space.frames[item.vpn] as Frame;
    // Every merge attempt splits the page's huge page first; if that maps the page itself to the
    // zero page, the merge fails; after the zero-page merge the searches go on with its old
    // contents, as the kernel's do; after a stable match the page is done.
    let contents = page;
    if (page.stableNode !== null) {
      // A KSM page: done if the item is on its node; else (fork) no checksum, straight to search.
      if (item.state === ItemState.Stable && item.node === page.stableNode) return;
    } else {
      this.removeRmapItemFromTree(item);
      const checksum = page.checksum();
      if (checksum !== item.oldChecksum) { // changing, or first sight: wait for the next visit
        item.oldChecksum = checksum;
        return;
      }
      if (this.st.knobs.useZeroPages && checksum === ZERO_CHECKSUM && isZeroPage(page)) {
        if (splitForMerge(this.st, space, item.vpn)) {
          setZeroPte(this.st, space, item.vpn);
          return;
        }
        contents = ZERO_CONTENTS;
      }
    }

    const kpage = this.stable.stableTreeSearch(contents, space.domain);
    if (kpage === page && item.state === ItemState.Stable && item.node === page.stableNode) return;
    this.removeRmapItemFromTree(item);
    if (kpage !== null) {
      // After a stable match the page is done, merged or not (a split may have taken it away).
      if (contents === page && splitForMerge(this.st, space, item.vpn)) {
        if (kpage !== page) setPte(this.st, space, item.vpn, kpage);
        this.stable.stableTreeAppend(item, kpage.stableNode!);
      }
      return;
    }

    const treeItem = this.unstable.unstableTreeSearchInsert(item, contents);
    if (treeItem === null || contents !== page) return;
    if (space.isWholeHuge(item.vpn) && treeItem.space === space
      && Math.floor(treeItem.vpn / HUGE_PAGE_PAGES) === Math.floor(item.vpn / HUGE_PAGE_PAGES)) {
      // Both pages in one huge page: its split fails under the merge, which fails; ksmd splits it then.
      splitHugePage(this.st, space, item.vpn);
      return;
    }
    if (!splitForMerge(this.st, space, item.vpn)) return;
    splitForMerge(this.st, treeItem.space, treeItem.vpn); // survives: equal to this page, not all zero
    this.tryToMergeTwoPages(item, page, treeItem);
  }

  /**
   * Two-page merge: the scanned page becomes the KSM page in place, the tree item's page-table entry
   * maps it instead of its own page, a stable node is inserted, and the tree item then the scanned
   * item are appended.
   */
  private tryToMergeTwoPages(item: RmapItem, page: Frame, treeItem: RmapItem): void {
    this.unstable.removeUnstableItem(treeItem);
    setPte(this.st, treeItem.space, treeItem.vpn, page);
    // `page` is a KSM page from here on; it gets its node (and its KSM mark) from the insert.
    const node = this.stable.stableTreeInsert(page, item.space.domain);
    this.stable.stableTreeAppend(treeItem, node);
    this.stable.stableTreeAppend(item, node);
  }
}

function linkBefore(slot: Slot, at: Slot): void {
  slot.prev = at.prev;
  slot.next = at;
  at.prev.next = slot;
  at.prev = slot;
}

function unlink(slot: Slot): void {
  slot.prev.next = slot.next;
  slot.next.prev = slot.prev;
  slot.prev = slot.next = slot;
}
