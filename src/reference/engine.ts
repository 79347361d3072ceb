/**
 * ReferenceBackend: the plain-TypeScript engine behind the `KsmBackend` contract (src/backend.ts),
 * following docs/semantics.md. It is the oracle the WebAssembly core is tested against and the
 * baseline of the benchmarks. This file holds the user-facing operations (spaces, reads and writes,
 * madvise, fork, exit, run=2) and the figures; scanning lives in scan.ts, the trees in stable.ts
 * and unstable.ts, frames and page tables in memory.ts.
 *
 * Like every engine it trusts its arguments (the driver validates them), and a call that fails
 * with ENOMEM has changed nothing.
 */

import {
  DEFAULT_DOMAIN, MADV_COLLAPSE, MADV_DONTNEED, MADV_MERGEABLE, MADV_UNMERGEABLE, MAX_SPACE_PAGES, PAGE_SIZE, REGISTERED_FIRST,
  type Advice, type BatchResult, type EngineCounters, type EngineLive, type EngineSpaceCounters,
  type ItemState as ItemStateName, type KsmBackend, type PageInfo, type PageMapping, type ScanKnobs,
} from '../backend.js';
import { ENOMEM } from '../errors.js';
import { setPte, unshareNeedsFrame, unsharePte, writableFrame, writeNeedsFrame, zapPte } from './memory.js';
import {
  FramePool, ItemState, KsmState, MM_SLOT_BYTES, PTE_MAPPED, PTE_MERGEABLE, RMAP_ITEM_BYTES, STABLE_NODE_BYTES, Space,
  type Slot,
} from './records.js';
import { Scanner } from './scan.js';
import { collapse } from './thp.js';
import { StableTree } from './stable.js';
import { UnstableTree } from './unstable.js';
import { verifyEngine } from './verify.js';

export interface ReferenceOptions {
  /** The most frames alive at once; beyond it calls fail with ENOMEM. No limit by default. */
  frameLimit?: number;
}

/** What reads of absent and KSM-zero pages see. Never written. */
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/** Bytes of page table and flags an address space costs per page (the estimate in `live`). */
const PAGE_TABLE_BYTES = 9;

export class ReferenceBackend implements KsmBackend {
  readonly engine = 'reference' as const;

  private readonly st: KsmState;
  private readonly stable: StableTree;
  private readonly unstable: UnstableTree;
  private readonly scanner: Scanner;
  private nextSpaceId = 1;

  constructor(options: ReferenceOptions = {}) {
    this.st = new KsmState(new FramePool(options.frameLimit));
    this.stable = new StableTree(this.st);
    this.unstable = new UnstableTree(this.st);
    this.scanner = new Scanner(this.st, this.stable, this.unstable);
  }

  /** The spaces alive (kept in the shared state: a huge page's split reaches every sharer). */
  private get spaces(): Map<number, Space> { return this.st.spaces; }

  setScanKnobs(knobs: ScanKnobs): void {
    this.st.knobs = { ...knobs };
  }

  // ---- Spaces.

  createSpace(pages: number, domain = DEFAULT_DOMAIN): number {
    const space = new Space(this.nextSpaceId++, pages, domain);
    space.flags.fill(PTE_MAPPED);
    this.spaces.set(space.id, space);
    return space.id;
  }

  growSpace(id: number, pages: number): number {
    const space = this.space(id);
    if (pages <= space.pages || pages > MAX_SPACE_PAGES || space.exiting) return ENOMEM;
    space.grow(pages, space.mergeAny ? PTE_MAPPED | PTE_MERGEABLE : PTE_MAPPED);
    return 0;
  }

  fork(parentId: number): number {
    const parent = this.space(parentId);
    const child = new Space(this.nextSpaceId++, parent.pages, parent.domain); // fork keeps the domain
    child.flags.set(parent.flags);
    for (let vpn = 0; vpn < parent.pages; vpn++) {
      const frame = parent.frames[vpn];
      if (frame !== null) setPte(this.st, child, vpn, frame);
      else if (parent.isZero(vpn)) child.zeroPages++;
      else if (parent.isSplitZero(vpn)) this.st.splitZeroPages++;
    }
    this.st.counters.ksmZeroPages += child.zeroPages;
    child.wholeHuge.set(parent.wholeHuge); // the child maps the parent's huge pages too
    this.st.hugePages += child.wholeHuge.reduce((n, whole) => n + whole, 0);
    child.mergeAny = parent.mergeAny;
    this.spaces.set(child.id, child);
    if (parent.slot !== null) this.scanner.addSlot(child);
    return child.id;
  }

  exit(id: number): void {
    const space = this.space(id);
    for (let vpn = 0; vpn < space.pages; vpn++) {
      zapPte(this.st, space, vpn);
      space.flags[vpn] = 0;
    }
    this.st.hugePages -= space.wholeHuge.reduce((n, whole) => n + whole, 0);
    space.wholeHuge.fill(0);
    space.exiting = true;
    this.spaces.delete(id);
    if (space.slot !== null) this.scanner.exitSlot(space);
  }

  // ---- Bytes.

  write(id: number, address: number, data: Uint8Array): number {
    if (data.length === 0) return 0;
    const space = this.space(id);
    const first = Math.floor(address / PAGE_SIZE);
    const last = Math.floor((address + data.length - 1) / PAGE_SIZE);
    let needed = 0;
    for (let vpn = first; vpn <= last; vpn++) if (writeNeedsFrame(space, vpn)) needed++;
    if (!this.st.pool.canAllocate(needed)) return ENOMEM;
    for (let done = 0; done < data.length;) {
      const at = address + done;
      const offset = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - offset, data.length - done);
      const frame = writableFrame(this.st, space, Math.floor(at / PAGE_SIZE));
      frame.data.set(data.subarray(done, done + n), offset);
      frame.written();
      done += n;
    }
    return 0;
  }

  read(id: number, address: number, out: Uint8Array): void {
    const space = this.space(id);
    for (let done = 0; done < out.length;) {
      const at = address + done;
      const offset = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - offset, out.length - done);
      const page = viewOf(space, Math.floor(at / PAGE_SIZE));
      out.set(page.subarray(offset, offset + n), done);
      done += n;
    }
  }

  pageView(id: number, vpn: number): Uint8Array {
    return viewOf(this.space(id), vpn);
  }

  // ---- madvise, munmap, prctl.

  madvise(id: number, first: number, count: number, advice: Advice): number {
    const space = this.space(id);
    const end = first + count;
    if (advice === MADV_MERGEABLE) {
      let became = false;
      for (let vpn = first; vpn < end; vpn++) {
        if ((space.flags[vpn] & (PTE_MAPPED | PTE_MERGEABLE)) !== PTE_MAPPED) continue;
        space.flags[vpn] |= PTE_MERGEABLE;
        became = true;
      }
      return became ? this.register(space) : 0;
    }
    if (advice === MADV_UNMERGEABLE) return this.unmergeRange(space, first, end);
    if (advice === MADV_COLLAPSE) collapse(this.st, space, first, count);
    if (advice === MADV_DONTNEED) for (let vpn = first; vpn < end; vpn++) zapPte(this.st, space, vpn);
    return 0;
  }

  unmap(id: number, first: number, count: number): void {
    const space = this.space(id);
    for (let vpn = first; vpn < first + count; vpn++) {
      zapPte(this.st, space, vpn);
      space.flags[vpn] = 0;
    }
  }

  setMergeAny(id: number, on: boolean): number {
    const space = this.space(id);
    // Asking for the state the flag already has changes nothing (semantics.md is silent; the
    // kernel's prctl returns early the same way, so "off" never unmerges madvised pages).
    if (space.mergeAny === on) return 0;
    if (!on) {
      const status = this.unmergeRange(space, 0, space.pages);
      if (status === 0) space.mergeAny = false;
      return status;
    }
    const flags = this.register(space);
    space.mergeAny = true;
    for (let vpn = 0; vpn < space.pages; vpn++) {
      if ((space.flags[vpn] & PTE_MAPPED) !== 0) space.flags[vpn] |= PTE_MERGEABLE;
    }
    return flags;
  }

  /** Gives the space a slot if it has none; REGISTERED_FIRST if the list was empty (ksmd wakes). */
  private register(space: Space): number {
    if (space.slot !== null) return 0;
    const listWasEmpty = this.scanner.slots === 0;
    this.scanner.addSlot(space);
    return listWasEmpty ? REGISTERED_FIRST : 0;
  }

  /** MADV_UNMERGEABLE on [first, end): private copies of KSM and KSM-zero pages, then not mergeable. */
  private unmergeRange(space: Space, first: number, end: number): number {
    let needed = 0;
    for (let vpn = first; vpn < end; vpn++) {
      if (space.isMergeable(vpn) && unshareNeedsFrame(space, vpn)) needed++;
    }
    if (!this.st.pool.canAllocate(needed)) return ENOMEM;
    for (let vpn = first; vpn < end; vpn++) {
      if (!space.isMergeable(vpn)) continue;
      unsharePte(this.st, space, vpn);
      space.flags[vpn] &= ~PTE_MERGEABLE;
    }
    return 0;
  }

  // ---- ksmd.

  scanBatch(budget: number, nowMs: number): BatchResult {
    this.st.now = nowMs;
    return this.scanner.scanBatch(budget);
  }

  unmergeAll(): number {
    let needed = 0;
    this.forEachSlot((space) => {
      for (let vpn = 0; vpn < space.pages; vpn++) {
        if (space.isMergeable(vpn) && unshareNeedsFrame(space, vpn)) needed++;
      }
    });
    if (!this.st.pool.canAllocate(needed)) return ENOMEM;
    this.forEachSlot((space, slot) => {
      if (!space.exiting) {
        for (let vpn = 0; vpn < space.pages; vpn++) if (space.isMergeable(vpn)) unsharePte(this.st, space, vpn);
      }
      this.scanner.freeAllRmapItems(space);
      if (space.exiting) this.scanner.removeSlot(slot);
    });
    this.stable.removeAllStableNodes();
    this.unstable.reset();
    this.st.counters.fullScans = 0;
    this.scanner.resetCursor();
    return 0;
  }

  removeAllStableNodes(): boolean {
    return this.stable.removeAllStableNodes();
  }

  /** Every slot in list order; `fn` may remove the slot it is given. */
  private forEachSlot(fn: (space: Space, slot: Slot) => void): void {
    const head = this.scanner.head;
    for (let slot = head.next; slot !== head;) {
      const next = slot.next;
      fn(slot.space as Space, slot);
      slot = next;
    }
  }

  // ---- Figures.

  counters(): EngineCounters {
    return { ...this.st.counters };
  }

  /** Also answers for an exited space (the driver keeps ksm_stat readable after close()): its
   * items until ksmd frees them, then all zero. */
  spaceCounters(id: number): EngineSpaceCounters {
    const space = this.find(id);
    if (space === null) {
      return { rmapItems: 0, zeroPages: 0, mergingPages: 0, mergeable: false, mergeAny: false, registered: false };
    }
    let mergeable = false;
    for (let vpn = 0; vpn < space.pages && !mergeable; vpn++) mergeable = space.isMergeable(vpn);
    return {
      rmapItems: space.rmapItems,
      zeroPages: space.zeroPages,
      mergingPages: space.mergingPages,
      mergeable,
      mergeAny: space.mergeAny,
      registered: space.slot !== null,
    };
  }

  /** Also answers for an exited space: every page unmapped. */
  pageInfo(id: number, vpn: number): PageInfo {
    const space = this.find(id);
    if (space === null) {
      return { mapping: 'unmapped', frame: -1, mapcount: 0, mergeable: false, item: 'none', age: 0, remainingSkips: 0, huge: false };
    }
    const frame = space.frames[vpn];
    const item = space.items[vpn];
    return {
      mapping: mappingOf(space, vpn),
      frame: frame?.id ?? -1,
      mapcount: frame?.mapcount ?? 0,
      mergeable: space.isMergeable(vpn),
      item: item === null ? 'none' : itemStateName(item.state, item.skipped),
      age: item?.age ?? 0,
      remainingSkips: item?.remainingSkips ?? 0,
      huge: space.isWholeHuge(vpn),
    };
  }

  live(): EngineLive {
    const pool = this.st.pool;
    const metadataBytes = this.st.counters.rmapItems * RMAP_ITEM_BYTES + this.st.stableNodes * STABLE_NODE_BYTES;
    let pageTableBytes = 0;
    for (const space of this.spaces.values()) pageTableBytes += space.pages * PAGE_TABLE_BYTES;
    return {
      framesInUse: pool.live,
      mappedPages: pool.mappings + this.st.counters.ksmZeroPages + this.st.splitZeroPages,
      ksmFrames: pool.ksm,
      metadataBytes,
      memoryBytes: pool.live * PAGE_SIZE + metadataBytes + this.scanner.slots * MM_SLOT_BYTES + pageTableBytes,
      hugePages: this.st.hugePages,
      hugePageSplits: this.st.hugePageSplits,
      splitZeroPages: this.st.splitZeroPages,
    };
  }

  /** Check every internal invariant (counters against the records, trees, mapcounts); a list of
   * what is broken, empty when all hold. For tests; it walks everything. */
  verify(): string[] {
    return verifyEngine(this.st, this.stable, this.unstable, this.scanner, [...this.spaces.values()]);
  }

  private space(id: number): Space {
    return this.spaces.get(id) as Space;
  }

  /** A live space, or an exited one whose slot ksmd has not freed yet; null once it is gone. */
  private find(id: number): Space | null {
    const live = this.spaces.get(id);
    if (live !== undefined) return live;
    const head = this.scanner.head;
    for (let slot = head.next; slot !== head; slot = slot.next) {
      if ((slot.space as Space).id === id) return slot.space;
    }
    return null;
  }
}

/** The bytes (space, vpn) shows: its frame's, or zeros. */
function viewOf(space: Space, vpn: number): Uint8Array {
  return space.frames[vpn]?.data ?? ZERO_PAGE;
}

function mappingOf(space: Space, vpn: number): PageMapping {
  if ((space.flags[vpn] & PTE_MAPPED) === 0) return 'unmapped';
  if (space.isZero(vpn)) return 'zero';
  if (space.isSplitZero(vpn)) return 'split-zero';
  const frame = space.frames[vpn];
  if (frame === null) return 'absent';
  if (frame.stableNode !== null) return 'ksm';
  return frame.mapcount > 1 ? 'cow' : 'private';
}

function itemStateName(state: ItemState, skipped: boolean): ItemStateName {
  if (state === ItemState.Stable) return 'stable';
  if (state === ItemState.Unstable) return 'unstable';
  return skipped ? 'skipped' : 'volatile';
}
