/**
 * Transparent huge pages in the reference engine, as Linux 6.18 treats them under KSM
 * (docs/thp.md): a span of 512 pages can be one whole huge page (MADV_COLLAPSE). ksmd visits its
 * subpages as ordinary pages; only a merge attempt on one of them splits it, in every space that
 * maps it, and the split maps each zero-filled subpage to the shared zero page, out of ksmd's view.
 */
import { HUGE_PAGE_PAGES } from '../backend.js';
import { isZeroPage, setSplitZeroPte } from './memory.js';
import type { KsmState, Space } from './records.js';

/** MADV_COLLAPSE: each aligned 512-page span inside [first, first+count) of present private pages becomes a huge page. */
export function collapse(st: KsmState, space: Space, first: number, count: number): void {
  const start = Math.ceil(first / HUGE_PAGE_PAGES);
  for (let span = start; (span + 1) * HUGE_PAGE_PAGES <= first + count; span++) {
    if (space.wholeHuge[span] === 1 || !collapsible(space, span)) continue;
    space.wholeHuge[span] = 1;
    st.hugePages++;
  }
}

function collapsible(space: Space, span: number): boolean {
  for (let vpn = span * HUGE_PAGE_PAGES; vpn < (span + 1) * HUGE_PAGE_PAGES; vpn++) {
    const frame = space.frames[vpn];
    if (frame === null || frame.stableNode !== null || frame.mapcount !== 1) return false;
  }
  return true;
}

/** Before a merge on (space, vpn): its huge page, if whole, is split. False if the page itself went to the zero page. */
export function splitForMerge(st: KsmState, space: Space, vpn: number): boolean {
  if (!space.isWholeHuge(vpn)) return true;
  splitHugePage(st, space, vpn);
  return space.frames[vpn] !== null;
}

/** Splits the whole huge page holding (space, vpn), in every space that maps it (after fork). */
export function splitHugePage(st: KsmState, space: Space, vpn: number): void {
  const span = Math.floor(vpn / HUGE_PAGE_PAGES);
  const frame = space.frames[vpn];
  const sharers = [...st.spaces.values()].filter((other) => other !== space && !other.exiting
    && other.wholeHuge[span] === 1 && frame !== null && other.frames[vpn] === frame);
  for (const sharer of sharers) splitSpan(st, sharer, span);
  splitSpan(st, space, span);
  st.hugePageSplits++;
}

function splitSpan(st: KsmState, space: Space, span: number): void {
  for (let vpn = span * HUGE_PAGE_PAGES; vpn < (span + 1) * HUGE_PAGE_PAGES; vpn++) {
    const frame = space.frames[vpn];
    if (frame !== null && isZeroPage(frame)) setSplitZeroPte(st, space, vpn);
  }
  space.wholeHuge[span] = 0;
  st.hugePages--;
}
