/**
 * The memory operations of the reference engine, on the frames and spaces of records.ts: page
 * compare and zero test, and the page-table operations that user actions need (copy-on-write on
 * write, unshare for MADV_UNMERGEABLE / run=2, zap for DONTNEED / unmap / exit).
 */

import { PAGE_SIZE } from '../backend.js';
import { PTE_SPLIT_ZERO, PTE_ZERO, type Frame, type KsmState, type Space } from './records.js';

const PAGE_WORDS = PAGE_SIZE / 4;

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
  else if (space.isSplitZero(vpn)) clearSplitZeroPte(st, space, vpn);
  else setPte(st, space, vpn, null);
}

/** A split's zero-filled subpage: it maps the shared zero page instead of its frame, which goes. */
export function setSplitZeroPte(st: KsmState, space: Space, vpn: number): void {
  setPte(st, space, vpn, null);
  space.flags[vpn] |= PTE_SPLIT_ZERO;
  st.splitZeroPages++;
}

function clearSplitZeroPte(st: KsmState, space: Space, vpn: number): void {
  space.flags[vpn] &= ~PTE_SPLIT_ZERO;
  st.splitZeroPages--;
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
  if (space.isSplitZero(vpn)) clearSplitZeroPte(st, space, vpn);
  if (old !== null) {
    copy.copyFrom(old);
    if (old.stableNode !== null) st.counters.cowKsm++;
  }
  setPte(st, space, vpn, copy);
  return copy;
}
