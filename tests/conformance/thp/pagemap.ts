/**
 * What each 4 KiB page of a process's range is, as the kernel sees it (root only): the PFN from
 * /proc/PID/pagemap, then that frame's /proc/kpageflags and /proc/kpagecount.
 *
 * Classes: absent (not present: never touched or freed), zero (the shared zero page, or a
 * subpage of the huge zero page), ksm (a KSM page), thp (an anonymous page in a large folio:
 * a huge page, PMD- or PTE-mapped), anon (an order-0 anonymous page), other (page cache, ...).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export const PAGE = 4096;
const PM_PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;
export const KPF = { ANON: 12, HEAD: 15, TAIL: 16, KSM: 21, THP: 22, ZERO_PAGE: 24 } as const;

export type PageClass = 'absent' | 'zero' | 'ksm' | 'thp' | 'anon' | 'other';
export const CLASSES: PageClass[] = ['absent', 'zero', 'ksm', 'thp', 'anon', 'other'];

export interface PageView { cls: PageClass; pfn: number; count: number }

/** Up to length bytes at position, as little-endian u64 words. */
function pread(fd: number, length: number, position: number): BigUint64Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return new BigUint64Array(buf.buffer, 0, Math.floor(done / 8));
}

function bit(flags: bigint, b: number): boolean {
  return ((flags >> BigInt(b)) & 1n) === 1n;
}

export function classify(flags: bigint): PageClass {
  if (bit(flags, KPF.ZERO_PAGE)) return 'zero';
  if (bit(flags, KPF.KSM)) return 'ksm';
  if (bit(flags, KPF.ANON)) return bit(flags, KPF.THP) ? 'thp' : 'anon';
  return 'other';
}

/** Reads /proc/kpageflags and /proc/kpagecount for many PFNs, in runs of consecutive frames. */
class FrameReader {
  private flagsFd = openSync('/proc/kpageflags', 'r');
  private countFd = openSync('/proc/kpagecount', 'r');
  read(pfns: number[]): Map<number, { flags: bigint; count: number }> {
    const out = new Map<number, { flags: bigint; count: number }>();
    const sorted = [...new Set(pfns)].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length;) {
      let j = i + 1;
      while (j < sorted.length && sorted[j] === sorted[j - 1] + 1 && j - i < 4096) j++;
      const first = sorted[i];
      const n = j - i;
      const f = pread(this.flagsFd, 8 * n, 8 * first);
      const c = pread(this.countFd, 8 * n, 8 * first);
      for (let k = 0; k < n; k++) {
        out.set(first + k, {
          flags: k < f.length ? f[k] : 0n,
          count: k < c.length ? Number(c[k]) : 0,
        });
      }
      i = j;
    }
    return out;
  }
  close(): void { closeSync(this.flagsFd); closeSync(this.countFd); }
}

/** Every page of [address, address + bytes) of a process. */
export function viewRange(pid: number, address: number, bytes: number): PageView[] {
  const pages = bytes / PAGE;
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  let entries: BigUint64Array;
  try { entries = pread(fd, 8 * pages, 8 * (address / PAGE)); } finally { closeSync(fd); }
  const pfns: number[] = [];
  for (let i = 0; i < pages; i++) {
    const e = i < entries.length ? entries[i] : 0n;
    pfns.push(e & PM_PRESENT ? Number(e & PFN_MASK) : -1);
  }
  const frames = new FrameReader();
  let info: Map<number, { flags: bigint; count: number }>;
  try { info = frames.read(pfns.filter((p) => p > 0)); } finally { frames.close(); }
  return pfns.map((pfn) => {
    if (pfn < 0) return { cls: 'absent', pfn: -1, count: 0 };
    if (pfn === 0) throw new Error(`pagemap of ${pid} shows no PFNs: root (CAP_SYS_ADMIN) is needed`);
    const f = info.get(pfn)!;
    return { cls: classify(f.flags), pfn, count: f.count };
  });
}

export function countClasses(view: PageView[]): Record<PageClass, number> {
  const out = Object.fromEntries(CLASSES.map((c) => [c, 0])) as Record<PageClass, number>;
  for (const v of view) out[v.cls]++;
  return out;
}

/** "0-3,7,9-12" for a sorted list of page indexes. */
export function ranges(indexes: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j] + 1) j++;
    parts.push(i === j ? `${indexes[i]}` : `${indexes[i]}-${indexes[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Pages whose class changed, grouped by transition: { "thp>zero": "0-255", ... }. */
export function changes(before: PageView[], after: PageView[]): Record<string, string> {
  const groups = new Map<string, number[]>();
  after.forEach((v, i) => {
    const was = before[i]?.cls;
    if (was === v.cls) return;
    const key = `${was}>${v.cls}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(i);
  });
  return Object.fromEntries([...groups].map(([k, list]) => [k, ranges(list)]));
}

/** AnonHugePages (PMD-mapped huge pages) of the mapping that starts at address, in 4 KiB pages. */
export function pmdMappedPages(pid: number, address: number): number {
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n');
  const start = smaps.findIndex((l) => l.startsWith(`${address.toString(16)}-`));
  if (start < 0) return 0;
  for (let i = start + 1; i < smaps.length && !/^[0-9a-f]+-/.test(smaps[i]); i++) {
    const m = /^AnonHugePages:\s+(\d+) kB/.exec(smaps[i]);
    if (m) return Number(m[1]) / 4;
  }
  return 0;
}
