/**
 * The real ksmd on processes that are already running (stopped): the conformance harness's step
 * mode (one batch per poke), its knob journal and restore. Refuses unless KSM is idle.
 */
import { KernelUnavailable, prepareKnobs, step, type KernelKnobs, type KernelScan } from '../conformance/harness.js';
import { restoreKnobs, staleJournal, writeJournal } from '../conformance/restore.js';
import { busyReason, saveKnobs, unavailableReason } from '../conformance/sysfs.js';

/** Why the live comparison cannot run here (not root, no KSM, KSM in use), or undefined. */
export function liveUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const why = unavailableReason();
  if (why) return why;
  try { const stale = staleJournal(); if (stale) restoreKnobs(stale); } catch (error) { return (error as Error).message; }
  return busyReason();
}

/** Settles the real ksmd on the processes (in their registration order); the scans, knobs restored after. */
export async function kernelSettle(pids: number[], knobs: KernelKnobs, maxScans = 30): Promise<KernelScan[]> {
  const busy = busyReason(pids);
  if (busy) throw new KernelUnavailable(busy);
  const saved = saveKnobs();
  writeJournal(saved);
  try {
    prepareKnobs(knobs);
    const run = await step(pids.map((pid) => ({ pid })), { maxScans, stableScans: 3, timeoutMs: 120_000 }, { signal: '' });
    if (!run.converged) throw new Error(`ksmd did not settle within ${maxScans} full scans`);
    return run.scans;
  } finally {
    const left = restoreKnobs(saved);
    if (left.length) throw new Error(`KSM knobs NOT restored: ${left.join('; ')}`);
  }
}
