/**
 * Which pages of the visited mappings ksmd would return: present and anonymous. /proc/PID/pagemap
 * gives, per virtual page, whether it is present and its frame number (PFN; zero unless the reader
 * has CAP_SYS_ADMIN); /proc/kpageflags of that PFN tells an anonymous page from the shared zero
 * page (a read fault, which ksmd passes over), a KSM page and a page inside a transparent huge page.
 * Without PFNs a present private page counts, so the set is an upper bound (`exact: false`).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Mapping } from './mappings.js';
import { indexFrames } from './frame-index.js';

export const PAGE_SIZE = 4096;

/**
 * pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst), read as two 32-bit halves (BigInt
 * arithmetic would be several times slower): the flags are in the high half, the PFN is bits 0-54.
 */
const PM_PRESENT = 0x80000000;
const PM_SWAPPED = 0x40000000;
const PM_FILE_OR_SHARED_ANON = 0x20000000;
const PFN_HIGH_MASK = 0x7fffff;

/** kpageflags bits (include/uapi/linux/kernel-page-flags.h), all in the low half. */
const KPF_ANON = 1 << 12;
const KPF_KSM = 1 << 21;
const KPF_THP = 1 << 22;
const KPF_ZERO_PAGE = 1 << 24;

/** PageSet.flags bits. */
export const PAGE_KSM = 1;
export const PAGE_THP = 2;

/** The pages ksmd would visit in one process, in address order, and what was passed over. */
export interface PageSet {
  /** Virtual addresses of the pages, ascending. */
  addresses: Float64Array;
  /** Their frame numbers (same order), when known (root); undefined otherwise. */
  pfns: Float64Array | undefined;
  /** Per page (same order), when known: PAGE_KSM, PAGE_THP bits. Addresses and THP bits are kept for 2 MiB alignment. */
  flags: Uint8Array | undefined;
  /** Those pages' flags: already merged by the real KSM, inside a transparent huge page. */
  ksmPages: number;
  thpPages: number;
  /** Present but passed over: on the shared zero page, or a page-cache page never copied. */
  zeroPageMapped: number;
  notAnonymous: number;
  /** Swapped out (ksmd passes over them too; they are not read). */
  swapped: number;
  /** True when every page's flags were known (PFNs and /proc/kpageflags readable). */
  exact: boolean;
}

/** Entries read from pagemap at a time (512 KiB). */
const ENTRIES_PER_READ = 1 << 16;

/** An open /proc/kpageflags, or undefined where it cannot be read (not root). */
export function openKpageflags(): number | undefined {
  try {
    return openSync('/proc/kpageflags', 'r');
  } catch {
    return undefined;
  }
}

/**
 * Walks pagemap over the mappings; `kpageflags` is an fd from openKpageflags(). First every present
 * private page and its PFN, then (as root) the flags of all those PFNs in ascending order, read in
 * windows: one read costs a few microseconds and one entry about 0.16 (all 6.5 M entries of this
 * machine read in about 1 s), so PFNs close together share a read, and a huge page (512 PFNs in a
 * row) is one read.
 */
export function walkPages(pagemapFd: number, mappings: readonly Mapping[], kpageflags: number | undefined): PageSet {
  const set: PageSet = { addresses: new Float64Array(0), pfns: undefined, flags: undefined, ksmPages: 0, thpPages: 0, zeroPageMapped: 0, notAnonymous: 0, swapped: 0, exact: kpageflags !== undefined };
  const capacity = mappings.reduce((n, m) => n + (m.anonKb === 0 ? 0 : (m.end - m.start) / PAGE_SIZE), 0);
  const candidates = new Float64Array(capacity);
  const pfns = new Float64Array(capacity);
  let n = 0;
  const entries = new Uint32Array(ENTRIES_PER_READ * 2);
  for (const m of mappings) {
    if (m.anonKb === 0) continue; // no anonymous page mapped here: nothing ksmd would return
    for (let start = m.start; start < m.end; start += ENTRIES_PER_READ * PAGE_SIZE) {
      const count = Math.min(ENTRIES_PER_READ, (m.end - start) / PAGE_SIZE);
      const got = readSync(pagemapFd, new Uint8Array(entries.buffer, 0, count * 8), 0, count * 8, (start / PAGE_SIZE) * 8) / 8;
      for (let i = 0; i < got; i++) {
        const high = entries[2 * i + 1];
        if (high & PM_SWAPPED) { set.swapped++; continue; }
        if (!(high & PM_PRESENT)) continue;
        if (high & PM_FILE_OR_SHARED_ANON) { set.notAnonymous++; continue; }
        candidates[n] = start + i * PAGE_SIZE;
        pfns[n++] = entries[2 * i] + (high & PFN_HIGH_MASK) * 2 ** 32;
      }
    }
  }
  if (kpageflags === undefined) {
    set.addresses = candidates.slice(0, n);
    return set;
  }
  const frames = indexFrames([pfns.subarray(0, n)]);
  const flags = readPageFlags(kpageflags, frames.ascending);
  const out = { addresses: new Float64Array(n), pfns: new Float64Array(n), flags: new Uint8Array(n) };
  let kept = 0;
  for (let k = 0; k < n; k++) {
    const f = flags[frames.positionOf(pfns[k])];
    if (f & KPF_ZERO_PAGE) { set.zeroPageMapped++; continue; }
    if (!(f & KPF_ANON)) { set.notAnonymous++; continue; }
    if (f & KPF_KSM) set.ksmPages++;
    if (f & KPF_THP) set.thpPages++;
    out.addresses[kept] = candidates[k];
    out.pfns[kept] = pfns[k];
    out.flags[kept++] = (f & KPF_KSM ? PAGE_KSM : 0) | (f & KPF_THP ? PAGE_THP : 0);
  }
  set.addresses = out.addresses.slice(0, kept);
  set.pfns = out.pfns.slice(0, kept);
  set.flags = out.flags.slice(0, kept);
  return set;
}

/** Entries of kpageflags worth reading past to save a read (see walkPages). */
const JOIN_GAP = 24;

/** The low half of each frame's kpageflags (every bit used here is there), for frames ascending. */
function readPageFlags(fd: number, sorted: Float64Array): Uint32Array {
  const n = sorted.length;
  const flags = new Uint32Array(n);
  const window = new Uint32Array(ENTRIES_PER_READ * 2);
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && sorted[j] - sorted[j - 1] <= JOIN_GAP && sorted[j] - sorted[i] < ENTRIES_PER_READ) j++;
    const count = sorted[j - 1] - sorted[i] + 1;
    readSync(fd, new Uint8Array(window.buffer, 0, count * 8), 0, count * 8, sorted[i] * 8);
    for (let k = i; k < j; k++) flags[k] = window[2 * (sorted[k] - sorted[i])];
    i = j;
  }
  return flags;
}

/**
 * Pages whose pagemap entry (present bit and PFN) differs now from the walk: they changed between
 * the walk and the read. Without root only pages that went away are seen (PFNs read as 0).
 */
export function changedSince(pagemapFd: number, set: PageSet): number {
  let changed = 0;
  const one = new Uint32Array(ENTRIES_PER_READ * 2);
  for (let i = 0; i < set.addresses.length;) {
    let j = i + 1;
    while (j < set.addresses.length && set.addresses[j] === set.addresses[j - 1] + PAGE_SIZE && j - i < ENTRIES_PER_READ) j++;
    const got = readSync(pagemapFd, new Uint8Array(one.buffer, 0, (j - i) * 8), 0, (j - i) * 8, (set.addresses[i] / PAGE_SIZE) * 8) / 8;
    for (let k = i; k < j; k++) {
      const high = k - i < got ? one[2 * (k - i) + 1] : 0;
      const pfn = k - i < got ? one[2 * (k - i)] + (high & PFN_HIGH_MASK) * 2 ** 32 : -1;
      if (!(high & PM_PRESENT) || (high & PM_FILE_OR_SHARED_ANON) || (set.pfns && pfn !== set.pfns[k])) changed++;
    }
    i = j;
  }
  return changed;
}

export function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try { closeSync(fd); } catch { /* already closed */ }
}
