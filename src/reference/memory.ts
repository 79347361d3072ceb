/**
 * The memory model of the reference engine: frames (4096-byte pages with a mapcount and, for a KSM
 * page, a stable node), address spaces (a page table of frames plus per-page flags and the rmap
 * items of its pages), page compare, and the page-table operations that user actions need
 * (copy-on-write on write, unshare for MADV_UNMERGEABLE / run=2, zap for DONTNEED / unmap / exit).
 */

import { PAGE_SIZE } from '../backend.js';
import type { KsmState, RmapItem, StableNode } from './records.js';
import type { Slot } from './scan.js';
import { xxh64Low32 } from './xxh64.js';

const PAGE_WORDS = PAGE_SIZE / 4;

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
export const MAPPED_MERGEABLE = PTE_MAPPED | PTE_MERGEABLE;

/** An address space (the kernel's mm). */
export class Space {
  readonly flags: Uint8Array;
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

  constructor(readonly id: number, readonly pages: number) {
    this.flags = new Uint8Array(pages);
    this.frames = new Array<Frame | null>(pages).fill(null);
    this.items = new Array<RmapItem | null>(pages).fill(null);
  }

  isMergeable(vpn: number): boolean {
    return (this.flags[vpn] & MAPPED_MERGEABLE) === MAPPED_MERGEABLE;
  }

  isZero(vpn: number): boolean {
    return (this.flags[vpn] & PTE_ZERO) !== 0;
  }
}

/** memcmp of two pages: unsigned bytes, lexicographic; <0, 0 or >0. */
export function memcmpPages(a: Frame, b: Frame): number {
  const x = a.words, y = b.words;
  for (let i = 0; i < PAGE_WORDS; i++) {
    if (x[i] === y[i]) continue;
    const d = a.data, e = b.data;
    for (let j = i * 4; ; j++) if (d[j] !== e[j]) return d[j] - e[j];
  }
  return 0;
}

export function isZeroPage(frame: Frame): boolean {
  const w = frame.words;
  for (let i = 0; i < PAGE_WORDS; i++) if (w[i] !== 0) return false;
  return true;
}

// ---- Page-table operations.

/** (space, vpn) maps `frame` (or nothing) instead of what it mapped; the old frame loses a mapping. */
export function setPte(st: KsmState, space: Space, vpn: number, frame: Frame | null): void {
  const old = space.frames[vpn];
  if (frame !== null) st.pool.get(frame);
  space.frames[vpn] = frame;
  if (old !== null) st.pool.put(old);
}

/** Map the KSM zero page at (space, vpn) (use_zero_pages merge). */
export function setZeroPte(st: KsmState, space: Space, vpn: number): void {
  setPte(st, space, vpn, null);
  space.flags[vpn] |= PTE_ZERO;
  space.zeroPages++;
  st.counters.ksmZeroPages++;
}

/** Drop whatever (space, vpn) maps: it becomes absent. A KSM zero PTE leaves ksm_zero_pages now. */
export function zapPte(st: KsmState, space: Space, vpn: number): void {
  if (space.isZero(vpn)) clearZeroPte(st, space, vpn);
  else setPte(st, space, vpn, null);
}

function clearZeroPte(st: KsmState, space: Space, vpn: number): void {
  space.flags[vpn] &= ~PTE_ZERO;
  space.zeroPages--;
  st.counters.ksmZeroPages--;
}

/** Whether a write to (space, vpn) needs a new frame (absent, zero, KSM or COW-shared page). */
export function writeNeedsFrame(space: Space, vpn: number): boolean {
  const f = space.frames[vpn];
  return f === null || f.stableNode !== null || f.mapcount > 1;
}

/**
 * The frame a write to (space, vpn) goes to, as the kernel's write fault: a private page is written
 * in place; an absent page or the KSM zero page gets a zeroed frame (the latter leaves
 * ksm_zero_pages at once, no cow_ksm); a KSM page is always copied (cow_ksm++), even by its last
 * mapper; a COW-shared ordinary page is copied.
 */
export function writableFrame(st: KsmState, space: Space, vpn: number): Frame {
  const frame = space.frames[vpn];
  if (frame !== null && frame.stableNode === null && frame.mapcount === 1) return frame;
  return replaceWithCopy(st, space, vpn);
}

/** Whether unsharing (space, vpn) needs a new frame (a KSM page or the KSM zero page). */
export function unshareNeedsFrame(space: Space, vpn: number): boolean {
  return space.isZero(vpn) || space.frames[vpn]?.stableNode != null;
}

/** MADV_UNMERGEABLE / run=2 on one page: a KSM page or KSM zero PTE gets a private copy. */
export function unsharePte(st: KsmState, space: Space, vpn: number): void {
  if (unshareNeedsFrame(space, vpn)) replaceWithCopy(st, space, vpn);
}

/** Put a private copy of what (space, vpn) shows (zeros if absent or zero) in its place. */
function replaceWithCopy(st: KsmState, space: Space, vpn: number): Frame {
  const old = space.frames[vpn];
  const copy = st.pool.allocate();
  if (space.isZero(vpn)) clearZeroPte(st, space, vpn);
  if (old !== null) {
    copy.copyFrom(old);
    if (old.stableNode !== null) st.counters.cowKsm++;
  }
  setPte(st, space, vpn, copy);
  return copy;
}
