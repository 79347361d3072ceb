/**
 * What a person wants from a run: memory saved, when the merge state settled, how long that takes
 * in simulated time under these knobs and under others, and ksmd's estimated CPU cost.
 */
import type { EstimateRun, ScanRecord } from './run.js';
import { PAGE_SIZE, inputPages } from './source.js';
import { projectScanCpu, projectScanTimes } from './timing.js';

export interface Pace {
  label: string;
  pagesToScan: number;
  sleepMillisecs: number;
  /** Simulated ms to the end of the settling scan, and to the end of the last scan. */
  settleMs: number;
  lastMs: number;
  /** ksmd's predicted CPU ms to the end of the settling scan. */
  settleCpuMs: number;
  /** ksmd's predicted CPU share of one core in a steady scan (the last one). */
  steadyCpuShare: number;
}

export interface Summary {
  pages: number;
  last: ScanRecord;
  /** Bytes that no longer need a page of their own: (pages_sharing + ksm_zero_pages) × 4096. */
  savedBytes: number;
  settledAt: number;
  converged: boolean;
  cpuToSettleMs: number;
  paces: Pace[];
}

export function summarize(run: EstimateRun): Summary {
  const last = run.scans[run.scans.length - 1];
  const settle = run.scans[Math.max(0, run.settledAt - 1)];
  const works = run.scans.map((s) => s.work);
  const { pagesToScan, sleepMillisecs, advisorMode } = run.knobs;
  const lastOf = (xs: number[]) => xs[xs.length - 1] - (xs[xs.length - 2] ?? 0);
  const pace = (label: string, pts: number, sleep: number): Pace => {
    const times = projectScanTimes(works, pts, sleep, run.profile);
    const cpu = projectScanCpu(works, pts, run.profile);
    return {
      label, pagesToScan: pts, sleepMillisecs: sleep, settleMs: times[run.settledAt - 1], lastMs: times[times.length - 1],
      settleCpuMs: cpu[run.settledAt - 1], steadyCpuShare: share(lastOf(cpu), lastOf(times)),
    };
  };
  const own: Pace = {
    label: advisorMode === 'scan-time' ? 'these knobs (scan-time advisor)' : 'these knobs',
    pagesToScan, sleepMillisecs, settleMs: settle.simulatedMs, lastMs: last.simulatedMs, settleCpuMs: settle.cpuMs,
    steadyCpuShare: share(lastOf(run.scans.map((s) => s.cpuMs)), lastOf(run.scans.map((s) => s.simulatedMs))),
  };
  const others = [pace('kernel defaults', 100, 20), pace('pages_to_scan 1000', 1000, sleepMillisecs), pace('pages_to_scan 5000', 5000, sleepMillisecs)]
    .filter((p) => advisorMode === 'scan-time' || p.pagesToScan !== pagesToScan || p.sleepMillisecs !== sleepMillisecs);
  return {
    pages: inputPages(run.spaces),
    last,
    savedBytes: (last.pagesSharing + last.ksmZeroPages + last.splitZeroPages) * PAGE_SIZE,
    settledAt: run.settledAt,
    converged: run.converged,
    cpuToSettleMs: settle.cpuMs,
    paces: [own, ...others],
  };
}

/** CPU ms over elapsed ms (which include the CPU), as a share of one core. */
function share(cpuMs: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.min(1, cpuMs / elapsedMs) : 0;
}
