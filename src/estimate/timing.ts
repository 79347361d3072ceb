/**
 * The kernel's clock (ksm-model §2.1): ksmd runs a batch of up to pages_to_scan pages, then sleeps
 * sleep_millisecs. A batch never crosses the end of a full scan: the call that finds no next page
 * ends the batch. So a scan that processes p pages in batches of b takes floor(p / b) + 1 batches
 * (p = b: one full batch and one of 0 pages).
 *
 * How long that takes by the wall clock, as the real ksmd takes it: the sleep is a timer of
 * sleep_millisecs rounded up to whole ticks (msecs_to_jiffies), armed at the tick ksmd's batch
 * ended in, and the timer wheel fires it one tick late rather than early (profile.extraTicks), so
 * a 20 ms sleep at HZ=250 lasts 6 ticks, 24 ms, counted from the tick the batch ended in. A batch
 * shorter than what is left of its tick costs no wall time at all; a longer one pushes the next
 * wake by whole ticks. The first batch starts as soon as run=1 is written.
 */
import type { ClockProfile } from './clock-profile.js';
import { scanCpuMs, type ScanWork } from './cpu.js';

/** sleep_millisecs as ticks (msecs_to_jiffies rounds up). */
export function sleepTicks(sleepMillisecs: number, hz: number): number {
  return Math.ceil((sleepMillisecs * hz) / 1000);
}

/** Batches ksmd needs for a full scan that processes `pages` pages, `pagesToScan` per batch. */
export function batchesPerScan(pages: number, pagesToScan: number): number {
  return Math.floor(pages / pagesToScan) + 1;
}

/**
 * ksmd's wall clock from run=1, advanced scan by scan. Expected values: ksmd gets a CPU some time
 * after its timer fires, taken as exponentially distributed with mean profile.wakeMs, so a batch
 * that ends past a tick boundary (and so arms its timer a tick later) does so with a probability,
 * not at a cliff.
 */
export class KernelClock {
  #now = 0;
  /** When the timer that woke the current batch fired (ms since run=1); run=1 is written half a tick after a tick. */
  #fired = Number.NaN;
  readonly #tick: number;
  readonly #sleep: number;

  constructor(readonly profile: ClockProfile, sleepMillisecs: number) {
    this.#tick = 1000 / profile.hz;
    this.#sleep = sleepMillisecs === 0 ? 0 : sleepTicks(sleepMillisecs, profile.hz) + profile.extraTicks;
  }

  /** ms since run=1 now (at the end of the last scan added). */
  get now(): number { return this.#now; }

  /**
   * Adds a full scan of `batches` batches that cost `cpuMs` of ksmd's CPU in all (spread evenly
   * over them); returns the ms since run=1 at its end (the end of its last batch).
   */
  scan(batches: number, cpuMs: number): number {
    const per = batches > 0 ? cpuMs / batches : 0;
    for (let b = 0; b < batches; b++) {
      const first = Number.isNaN(this.#fired);
      // The first batch runs at once; the others when their timer has fired and ksmd got a CPU.
      const start = first ? 0 : this.#sleep === 0 ? this.#now : this.#fired + this.profile.wakeMs;
      this.#now = start + per;
      if (this.#sleep === 0) continue;
      // The next timer is armed in the tick the batch ended in: count the ticks the batch crossed.
      const crossed = first ? Math.floor(0.5 + per / this.#tick) : this.#ticksCrossed(per);
      const tickOfStart = first ? -0.5 * this.#tick : this.#fired;
      this.#fired = tickOfStart + (crossed + this.#sleep) * this.#tick;
    }
    return this.#now;
  }

  /** Expected tick boundaries between a timer's firing and the end of the batch it woke, `per` ms long. */
  #ticksCrossed(per: number): number {
    const mean = this.profile.wakeMs;
    let n = 0;
    for (let k = 1; k < 1e6; k++) {
      const gap = k * this.#tick - per; // the wake-up latency that would carry the batch's end past tick k
      if (gap <= 0) { n++; continue; }
      const p = mean > 0 ? Math.exp(-gap / mean) : 0;
      if (p < 1e-9) break;
      n += p;
    }
    return n;
  }
}

/**
 * Cumulative ms since run=1 at the end of each full scan, had the same scans run with other knobs
 * (on a static workload, what a scan does does not depend on where its batches end).
 */
export function projectScanTimes(works: readonly ScanWork[], pagesToScan: number, sleepMillisecs: number, profile: ClockProfile): number[] {
  const clock = new KernelClock(profile, sleepMillisecs);
  return works.map((w) => {
    const batches = batchesPerScan(w.processed, pagesToScan);
    return clock.scan(batches, scanCpuMs({ ...w, batches }, profile));
  });
}

/** ksmd's CPU ms per scan, had the same scans run with other knobs. */
export function projectScanCpu(works: readonly ScanWork[], pagesToScan: number, profile: ClockProfile): number[] {
  let total = 0;
  return works.map((w) => (total += scanCpuMs({ ...w, batches: batchesPerScan(w.processed, pagesToScan) }, profile)));
}
