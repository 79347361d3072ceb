/**
 * Driving the real ksmd one batch at a time (the conformance harness's step mode): sleep_millisecs
 * is 600000, so ksmd sleeps after every batch until the value is rewritten (600000 <-> 600001),
 * which wakes it for exactly one batch. A batch is over when ksmd is asleep in its loop again, has
 * run since the poke, and full_scans, pages_scanned or pages_skipped moved.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { findKsmd, ksmdState } from '../ksmd.js';
import { readCounters, writeKnob } from '../sysfs.js';

export const STEP_SLEEP = [600000, 600001];

export class Stepper {
  private ksmd = findKsmd();
  private pokes = 0;
  private started = false;
  batches = 0;
  repokes = 0;
  readonly cpu0 = ksmdState(this.ksmd).cpuNs;

  cpuNs(): number { return ksmdState(this.ksmd).cpuNs - this.cpu0; }

  private poke(): void {
    if (!this.started) { writeKnob('run', 1); this.started = true; return; } // a stopped ksmd starts one batch at once
    writeKnob('sleep_millisecs', STEP_SLEEP[++this.pokes % 2]);
  }

  /** Runs one batch and waits until it is over. */
  async batch(timeoutMs = 30_000): Promise<void> {
    const c0 = readCounters();
    const before = ksmdState(this.ksmd);
    this.poke();
    const t0 = performance.now();
    let pokedAt = t0;
    while (true) {
      const now = ksmdState(this.ksmd);
      const c = readCounters();
      const moved = c.full_scans !== c0.full_scans || c.pages_scanned !== c0.pages_scanned || c.pages_skipped !== c0.pages_skipped;
      if (moved && now.asleep && now.runs !== before.runs) { this.batches++; return; }
      const t = performance.now();
      if (t - t0 > timeoutMs) throw new Error(`ksmd did not finish a batch within ${timeoutMs} ms`);
      if (!moved && t - pokedAt > 1000) { this.repokes++; this.poke(); pokedAt = t; }
      await yieldLoop();
    }
  }
}
