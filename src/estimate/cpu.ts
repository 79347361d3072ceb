/**
 * ksmd's CPU time, predicted from the work each full scan did: a cost per kind of work, in µs,
 * from a clock profile (profile.ts; `ksm-wasm calibrate` measures them on this host's ksmd, and the
 * package ships a default measured on its reference host). The kinds are what the kernel's scan
 * loop spends its time on (ksm-model §2.3), as the counters can tell them apart:
 *
 *  - a batch: the wake-up, taking the mm's lock again, caches cold after the sleep;
 *  - a page seen for the first time: its rmap item made, its checksum taken;
 *  - a visit to a page already merged (a stable-node lookup through its rmap item, no checksum),
 *    or a smart_scan skip;
 *  - a page merged into a KSM page that was already there (a stable-tree hit: a stable-tree
 *    descent, the page write-protected, compared in full and mapped to the KSM page; no checksum,
 *    no unstable tree);
 *  - any other processed page: a stable-tree descent that finds nothing, its checksum, and an
 *    unstable-tree descent (an insert, or a match);
 *  - a two-page merge, on top of the page's own cost (the unstable tree's match: both pages
 *    write-protected and compared, one mapped to the other, a new stable node inserted). The
 *    counters tell the two kinds of merge apart: a two-page merge makes a KSM page (pages_shared
 *    + 1, pages_sharing + 1), a stable hit only adds a sharer (pages_sharing + 1);
 *  - a tree step: each page that descends the stable tree (its mean size over the scan: it grows
 *    during the pass that merges), and each other page the unstable tree (pages_unshared at the
 *    scan's end), a cold page compared at every level: log2 of each size, per page;
 *  - the same levels once per batch: a batch starts with the trees' top levels cold after the
 *    sleep (with the trees empty, in the first scan, a batch costs less).
 *
 * The fixtures of tests/fixtures/kernel-clock/ say how close this gets.
 */
import type { ClockProfile } from './clock-profile.js';

/** What a full scan did, from the counters at its start and at its end. */
export interface ScanWork {
  /** Pages processed in the scan (pages_scanned delta). */
  processed: number;
  /** smart_scan skips in the scan. */
  skipped: number;
  /** Rmap items made in the scan (first visits). */
  firstSight: number;
  /** Processed pages that were merged already (pages_shared + pages_sharing at the scan's start). */
  merged: number;
  /** Pages merged in the scan (growth of pages_shared + pages_sharing + ksm_zero_pages). */
  merges: number;
  /** Of those, two-page merges: KSM pages made (growth of pages_shared). */
  pairMerges: number;
  /** Pages merged into a KSM page already there (or the zero page): the other merges. */
  stableHits: number;
  /** Batches the scan took. */
  batches: number;
  /** Tree levels the pages descended, estimated from the trees' sizes. */
  treeSteps: number;
  /** The trees' levels once per batch (a batch starts with them cold). */
  batchTreeSteps: number;
}

export interface CounterSample {
  pagesScanned: number; pagesSkipped: number; rmapItems: number; pagesShared: number; pagesSharing: number; pagesUnshared: number; ksmZeroPages: number;
}

/** The work of the scan between two samples (a static workload is assumed). */
export function scanWork(before: CounterSample, after: CounterSample, batches: number): ScanWork {
  const processed = after.pagesScanned - before.pagesScanned;
  const firstSight = Math.min(processed, Math.max(0, after.rmapItems - before.rmapItems));
  const merged = Math.min(processed - firstSight, before.pagesShared + before.pagesSharing);
  const grown = (s: CounterSample) => s.pagesShared + s.pagesSharing + s.ksmZeroPages;
  const merges = Math.min(processed, Math.max(0, grown(after) - grown(before)));
  const rest = Math.max(0, processed - firstSight - merged);
  const pairMerges = Math.min(Math.floor(merges / 2), Math.max(0, after.pagesShared - before.pagesShared));
  const stableHits = Math.min(rest, merges - 2 * pairMerges);
  const other = rest - stableHits;
  const stableDepth = Math.log2(1 + (before.pagesShared + after.pagesShared) / 2);
  const unstableDepth = Math.log2(1 + after.pagesUnshared);
  return {
    processed, skipped: after.pagesSkipped - before.pagesSkipped, firstSight, merged, merges, pairMerges, stableHits, batches,
    treeSteps: rest * stableDepth + other * unstableDepth, batchTreeSteps: batches * (stableDepth + unstableDepth),
  };
}

/** The work counts in the profile's order of costs. */
export function workCounts(w: ScanWork): Record<keyof ClockProfile['cpuUs'], number> {
  return {
    batch: w.batches,
    firstSight: w.firstSight,
    cheapVisit: w.merged + w.skipped,
    otherPage: Math.max(0, w.processed - w.firstSight - w.merged - w.stableHits),
    stableHit: w.stableHits,
    pairMerge: w.pairMerges,
    treeStep: w.treeSteps,
    batchTreeStep: w.batchTreeSteps,
  };
}

/** Predicted ksmd CPU ms for a scan. */
export function scanCpuMs(w: ScanWork, profile: ClockProfile): number {
  const counts = workCounts(w);
  let us = 0;
  for (const [kind, n] of Object.entries(counts)) us += n * profile.cpuUs[kind as keyof ClockProfile['cpuUs']];
  return us / 1000;
}
