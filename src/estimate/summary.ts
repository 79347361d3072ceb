/**
 * What a person wants from a run: memory saved, when the merge state settled, how long that takes
 * in simulated time under these knobs and under others, and ksmd's estimated CPU cost.
 */
import type { EstimateRun, ScanRecord } from './run.js';
import { PAGE_SIZE } from './source.js';
import { scanCpuMs } from './cpu.js';
import { batchesPerScan, projectScanTimes } from './timing.js';

export interface Pace {
  label: string;
  pagesToScan: number;
  sleepMillisecs: number;
  /** Simulated ms to the end of the settling scan, and to the end of the last scan. */
  settleMs: number;
  lastMs: number;
  /** Estimated ksmd CPU share of one core in a steady scan (the last one), central. */
  steadyCpuShare: number;
}

export interface Summary {
  pages: number;
  last: ScanRecord;
  /** Bytes that no longer need a page of their own: (pages_sharing + ksm_zero_pages) × 4096. */
  savedBytes: number;
  settledAt: number;
  converged: boolean;
  cpuToSettleMs: [number, number, number];
  paces: Pace[];
}

export function summarize(run: EstimateRun): Summary {
  const last = run.scans[run.scans.length - 1];
  const settle = run.scans[Math.max(0, run.settledAt - 1)];
  const processed = run.scans.map((s) => s.work.processed);
  const steadyCpu = last.cpuMs[1] - (run.scans[run.scans.length - 2]?.cpuMs[1] ?? 0);
  const steadyCpuAt = (pts: number) => scanCpuMs({ ...last.work, batches: batchesPerScan(last.work.processed, pts) })[1];
  const { pagesToScan, sleepMillisecs, advisorMode } = run.knobs;
  const pace = (label: string, pts: number, sleep: number): Pace => {
    const times = projectScanTimes(processed, pts, sleep);
    const lastScanMs = times[times.length - 1] - (times[times.length - 2] ?? 0);
    return { label, pagesToScan: pts, sleepMillisecs: sleep, settleMs: times[run.settledAt - 1], lastMs: times[times.length - 1], steadyCpuShare: share(steadyCpuAt(pts), lastScanMs) };
  };
  const lastScanMs = last.simulatedMs - (run.scans[run.scans.length - 2]?.simulatedMs ?? 0);
  const own: Pace = {
    label: advisorMode === 'scan-time' ? 'these knobs (scan-time advisor)' : 'these knobs',
    pagesToScan, sleepMillisecs, settleMs: settle.simulatedMs, lastMs: last.simulatedMs, steadyCpuShare: share(steadyCpu, lastScanMs),
  };
  const others = [pace('kernel defaults', 100, 20), pace('pages_to_scan 1000', 1000, sleepMillisecs), pace('pages_to_scan 5000', 5000, sleepMillisecs)]
    .filter((p) => advisorMode === 'scan-time' || p.pagesToScan !== pagesToScan || p.sleepMillisecs !== sleepMillisecs);
  return {
    pages: run.spaces.reduce((n, s) => n + s.pages, 0),
    last,
    savedBytes: (last.pagesSharing + last.ksmZeroPages + last.splitZeroPages) * PAGE_SIZE,
    settledAt: run.settledAt,
    converged: run.converged,
    cpuToSettleMs: settle.cpuMs,
    paces: [own, ...others],
  };
}

/** CPU ms over elapsed ms, as a share of one core; with no sleep at all ksmd would run flat out. */
function share(cpuMs: number, elapsedMs: number): number {
  return elapsedMs + cpuMs > 0 ? cpuMs / (elapsedMs + cpuMs) : 0;
}
