/**
 * Transparent huge pages in a live process's space. The kernel backs a huge page with 512
 * subpages at a 2 MiB-aligned address; the engine holds one as an aligned span of 512 pages
 * (a page-table leaf) that `collapse` makes whole. So the pages are placed in address order, as
 * ksmd walks them, and each whole huge page starts a new aligned span (the pages skipped over stay
 * absent: ksmd does not visit them).
 */
import { HUGE_PAGE_PAGES } from '../../backend.js';
import { PAGE_SIZE, PAGE_THP } from './pagemap.js';

const HUGE_BYTES = HUGE_PAGE_PAGES * PAGE_SIZE;

export interface HugeLayout {
  /** The space's page index of each page (same order as the addresses). */
  index: Uint32Array;
  spacePages: number;
  /** Space page indices where a whole huge page starts (each for HUGE_PAGE_PAGES pages). */
  hugeSpans: number[];
}

/** Places the pages; without page flags (not root) no huge page is known and pages are packed. */
export function hugeLayout(addresses: ArrayLike<number>, flags: ArrayLike<number> | undefined): HugeLayout {
  const n = addresses.length;
  const index = new Uint32Array(n);
  const hugeSpans: number[] = [];
  let next = 0;
  for (let k = 0; k < n;) {
    if (flags && wholeHugePageAt(addresses, flags, k)) {
      next = Math.ceil(next / HUGE_PAGE_PAGES) * HUGE_PAGE_PAGES;
      hugeSpans.push(next);
      for (let s = 0; s < HUGE_PAGE_PAGES; s++) index[k + s] = next + s;
      next += HUGE_PAGE_PAGES;
      k += HUGE_PAGE_PAGES;
    } else {
      index[k++] = next++;
    }
  }
  return { index, spacePages: next, hugeSpans };
}

/** Page k heads a huge page: 2 MiB-aligned, and it and the 511 after it are present, contiguous, in a huge page. */
function wholeHugePageAt(addresses: ArrayLike<number>, flags: ArrayLike<number>, k: number): boolean {
  const last = k + HUGE_PAGE_PAGES - 1;
  if (addresses[k] % HUGE_BYTES !== 0 || last >= addresses.length) return false;
  if (addresses[last] !== addresses[k] + (HUGE_PAGE_PAGES - 1) * PAGE_SIZE) return false;
  for (let s = k; s <= last; s++) if (!(flags[s] & PAGE_THP)) return false;
  return true;
}
