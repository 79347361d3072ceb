/**
 * Simulated time (ksm-model §2.1). ksmd runs a batch of up to pages_to_scan pages, then sleeps
 * sleep_millisecs rounded up to whole jiffies (HZ=250: 4 ms). A batch never crosses the end of a
 * full scan: the call that finds no next page ends the batch. So a scan that processes p pages in
 * batches of b takes floor(p / b) + 1 batches (p = b: one full batch and one of 0 pages).
 */

/** The kernel's tick rate on the reference host. */
export const HZ = 250;

/** sleep_millisecs as ksmd really sleeps it: rounded up to a whole number of jiffies. */
export function sleepMs(sleepMillisecs: number): number {
  return (Math.ceil((sleepMillisecs * HZ) / 1000) * 1000) / HZ;
}

/** Batches ksmd needs for a full scan that processes `pages` pages, `pagesToScan` per batch. */
export function batchesPerScan(pages: number, pagesToScan: number): number {
  return Math.floor(pages / pagesToScan) + 1;
}

/**
 * Cumulative simulated ms at the end of each full scan, had the same scans run with other knobs:
 * `processed[i]` is the number of pages processed (pages_scanned) in scan i+1. Valid because, on
 * a static workload, what a scan does does not depend on where the batches end.
 */
export function projectScanTimes(processed: readonly number[], pagesToScan: number, sleepMillisecs: number): number[] {
  let batches = 0;
  return processed.map((p) => {
    batches += batchesPerScan(p, pagesToScan);
    return batches * sleepMs(sleepMillisecs);
  });
}
