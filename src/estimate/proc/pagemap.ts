/**
 * Which pages of the visited mappings ksmd would return: present and anonymous. /proc/PID/pagemap
 * gives, per virtual page, whether it is present and its frame number (PFN; zero unless the reader
 * has CAP_SYS_ADMIN); /proc/kpageflags of that PFN tells an anonymous page from the shared zero
 * page (a read fault, which ksmd passes over), a KSM page and a page inside a transparent huge page.
 * Without PFNs a present private page counts, so the set is an upper bound (`exact: false`).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Mapping } from './mappings.js';

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
  addresses: number[];
  /** Their frame numbers (same order), when known (root); undefined otherwise. */
  pfns: number[] | undefined;
  /** Per page (same order), when known: PAGE_KSM, PAGE_THP bits. Addresses and THP bits are kept for 2 MiB alignment. */
  flags: number[] | undefined;
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

/** Walks pagemap over the mappings; `kpageflags` is an fd from openKpageflags(). */
export function walkPages(pagemapFd: number, mappings: readonly Mapping[], kpageflags: number | undefined): PageSet {
  const set: PageSet = { addresses: [], pfns: kpageflags === undefined ? undefined : [], flags: kpageflags === undefined ? undefined : [], ksmPages: 0, thpPages: 0, zeroPageMapped: 0, notAnonymous: 0, swapped: 0, exact: kpageflags !== undefined };
  const entries = new Uint32Array(ENTRIES_PER_READ * 2);
  const scratch = { index: new Int32Array(ENTRIES_PER_READ), pfn: new Float64Array(ENTRIES_PER_READ), flags: new Uint32Array(ENTRIES_PER_READ * 2) };
  for (const m of mappings) {
    if (m.anonKb === 0) continue; // no anonymous page mapped here: nothing ksmd would return
    for (let start = m.start; start < m.end; start += ENTRIES_PER_READ * PAGE_SIZE) {
      const count = Math.min(ENTRIES_PER_READ, (m.end - start) / PAGE_SIZE);
      const got = readSync(pagemapFd, new Uint8Array(entries.buffer, 0, count * 8), 0, count * 8, (start / PAGE_SIZE) * 8) / 8;
      classify(set, entries, got, start, kpageflags, scratch);
    }
  }
  return set;
}

function classify(set: PageSet, entries: Uint32Array, count: number, start: number, kpageflags: number | undefined,
  scratch: { index: Int32Array; pfn: Float64Array; flags: Uint32Array }): void {
  let n = 0;
  for (let i = 0; i < count; i++) {
    const high = entries[2 * i + 1];
    if (high & PM_SWAPPED) { set.swapped++; continue; }
    if (!(high & PM_PRESENT)) continue;
    if (high & PM_FILE_OR_SHARED_ANON) { set.notAnonymous++; continue; }
    scratch.index[n] = i;
    scratch.pfn[n++] = entries[2 * i] + (high & PFN_HIGH_MASK) * 2 ** 32;
  }
  if (kpageflags === undefined || set.pfns === undefined) {
    for (let k = 0; k < n; k++) set.addresses.push(start + scratch.index[k] * PAGE_SIZE);
    return;
  }
  readPageFlags(kpageflags, scratch.pfn, n, scratch.flags);
  for (let k = 0; k < n; k++) {
    const f = scratch.flags[2 * k]; // the low half holds every bit used here
    if (f & KPF_ZERO_PAGE) { set.zeroPageMapped++; continue; }
    if (!(f & KPF_ANON)) { set.notAnonymous++; continue; }
    if (f & KPF_KSM) set.ksmPages++;
    if (f & KPF_THP) set.thpPages++;
    set.addresses.push(start + scratch.index[k] * PAGE_SIZE);
    set.pfns.push(scratch.pfn[k]);
    set.flags!.push((f & KPF_KSM ? PAGE_KSM : 0) | (f & KPF_THP ? PAGE_THP : 0));
  }
}

/** kpageflags of the first n PFNs into out (two halves each), one read per run of consecutive PFNs (a huge page is 512). */
function readPageFlags(fd: number, pfns: Float64Array, n: number, out: Uint32Array): void {
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && pfns[j] === pfns[j - 1] + 1) j++;
    readSync(fd, new Uint8Array(out.buffer, i * 8, (j - i) * 8), 0, (j - i) * 8, pfns[i] * 8);
    i = j;
  }
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
