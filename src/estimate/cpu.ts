/**
 * An estimate of ksmd's CPU time, from the work each full scan did and per-page costs measured on
 * the real ksmd (kernel 6.18, x86_64, this project's reference host; the oracle's step-mode runs
 * of six workloads, ksmd's schedstat sum_exec_runtime divided by the pages of each kind):
 *
 *  - a page seen for the first time (its rmap item is made, its checksum taken):
 *    1.21-1.43 µs (scan 1 of every workload);
 *  - a visit to an already merged page, or a smart_scan skip: 0.25-0.40 µs (scan 5, where every
 *    processed page is a KSM page and every other page is skipped);
 *  - any other processed page (checksum, stable and unstable tree descents, merges):
 *    3.7-9.5 µs (steady scans, after taking off the merged pages; unique data 5.3 µs, pages that
 *    differ only in their last bytes 9.5 µs);
 *  - each batch (a wake-up, then caches cold after the sleep): 10-200 µs, central 45 µs. With the
 *    defaults (100 pages every 20 ms) the oracle measured 31-39 ms more CPU per steady scan of
 *    165 batches than with one batch per scan (about 0.2 ms a batch), and 6 ms more over 140
 *    batches in a skip round; this project's conformance run measured 20 ms more over 413
 *    batches of 7 pages (about 48 µs a batch).
 *
 * It is a rough estimate: within about 3x of ksmd's measured CPU on this project's conformance
 * runs (the per-batch cost depends on how long ksmd slept before it, the per-page cost on the
 * machine and on how deep the trees are). The engine's own time says nothing about the kernel's.
 */

/** µs per page: [low, central, high]. */
export const FIRST_SIGHT_US = [1.21, 1.35, 1.43] as const;
export const CHEAP_VISIT_US = [0.25, 0.33, 0.40] as const;
export const OTHER_PAGE_US = [3.7, 5.3, 9.5] as const;
export const BATCH_US = [10, 45, 200] as const;

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
  /** Batches the scan took. */
  batches: number;
}

export interface CounterSample { pagesScanned: number; pagesSkipped: number; rmapItems: number; pagesShared: number; pagesSharing: number }

/** The work of the scan between two samples (a static workload is assumed). */
export function scanWork(before: CounterSample, after: CounterSample, batches: number): ScanWork {
  const processed = after.pagesScanned - before.pagesScanned;
  const firstSight = Math.min(processed, Math.max(0, after.rmapItems - before.rmapItems));
  const merged = Math.min(processed - firstSight, before.pagesShared + before.pagesSharing);
  return { processed, skipped: after.pagesSkipped - before.pagesSkipped, firstSight, merged, batches };
}

/** Estimated ksmd CPU ms for the scan: [low, central, high]. */
export function scanCpuMs(w: ScanWork): [number, number, number] {
  const other = w.processed - w.firstSight - w.merged;
  const at = (i: number) => (w.firstSight * FIRST_SIGHT_US[i] + (w.merged + w.skipped) * CHEAP_VISIT_US[i] + other * OTHER_PAGE_US[i] + w.batches * BATCH_US[i]) / 1000;
  return [at(0), at(1), at(2)];
}
