/**
 * The memory of a QEMU process as ksmd sees it: every mapping marked mergeable (VmFlags mg: guest
 * RAM and the other RAM blocks QEMU madvises), page by page through pagemap and kpageflags, and
 * what KSM freed: the frames the guests held before minus the frames they hold after (a KSM frame
 * counted once however many guests map it), split into KSM's merges and the zero subpages.
 */
import { readFileSync } from 'node:fs';
import { countClasses, viewRange, type PageClass, type PageView } from '../../tests/conformance/thp/pagemap.js';

export interface Vma { start: number; end: number; flags: string[]; anonHugeKb: number }

export function mergeableVmas(pid: number): Vma[] {
  const out: Vma[] = [];
  let cur: Vma | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (head) { cur = { start: parseInt(head[1], 16), end: parseInt(head[2], 16), flags: [], anonHugeKb: 0 }; continue; }
    if (!cur) continue;
    const huge = /^AnonHugePages:\s+(\d+) kB/.exec(line);
    if (huge) cur.anonHugeKb = Number(huge[1]);
    if (line.startsWith('VmFlags:')) {
      cur.flags = line.slice(8).trim().split(/\s+/);
      if (cur.flags.includes('mg')) out.push(cur);
    }
  }
  return out;
}

export interface SpacePages {
  pid: number;
  mergeableMiB: number;
  classes: Record<PageClass, number>;
  /** Pages PMD-mapped as huge pages (smaps AnonHugePages). */
  pmdMapped: number;
  /** Distinct frames of anonymous pages (anon, thp, ksm) this process maps. */
  pfns: Set<number>;
  ksmPfns: Set<number>;
}

export function readSpace(pid: number): SpacePages {
  const vmas = mergeableVmas(pid);
  const views: PageView[] = [];
  for (const v of vmas) views.push(...viewRange(pid, v.start, v.end - v.start));
  const pfns = new Set<number>();
  const ksmPfns = new Set<number>();
  for (const p of views) {
    if (p.cls === 'anon' || p.cls === 'thp' || p.cls === 'ksm') pfns.add(p.pfn);
    if (p.cls === 'ksm') ksmPfns.add(p.pfn);
  }
  return {
    pid,
    mergeableMiB: vmas.reduce((s, v) => s + v.end - v.start, 0) / 2 ** 20,
    classes: countClasses(views),
    pmdMapped: vmas.reduce((s, v) => s + v.anonHugeKb / 4, 0),
    pfns,
    ksmPfns,
  };
}

/** Frames held by all spaces together (a frame mapped by several counted once). */
export function framesHeld(spaces: SpacePages[]): number {
  const all = new Set<number>();
  for (const s of spaces) for (const p of s.pfns) all.add(p);
  return all.size;
}

export function summarize(s: SpacePages) {
  return { pid: s.pid, mergeableMiB: s.mergeableMiB, ...s.classes, pmdMapped: s.pmdMapped, frames: s.pfns.size };
}

/** What KSM freed between two readings of the same processes, in 4 KiB pages. */
export function freed(before: SpacePages[], after: SpacePages[]) {
  const ksmPtes = after.reduce((n, s) => n + s.classes.ksm, 0);
  const ksmFrames = new Set<number>();
  for (const s of after) for (const p of s.ksmPfns) ksmFrames.add(p);
  const zeroBefore = before.reduce((n, s) => n + s.classes.zero, 0);
  const zeroAfter = after.reduce((n, s) => n + s.classes.zero, 0);
  const total = framesHeld(before) - framesHeld(after);
  return {
    framesBefore: framesHeld(before),
    framesAfter: framesHeld(after),
    pages: total,
    MiB: Math.round((total * 4096 / 2 ** 20) * 10) / 10,
    byKsmMerges: ksmPtes - ksmFrames.size,
    byZeroSubpages: zeroAfter - zeroBefore,
    ksmPtes,
    ksmFrames: ksmFrames.size,
  };
}
