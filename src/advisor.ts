/**
 * The scan-time advisor of /sys/kernel/mm/ksm/advisor_mode: after each full scan it sets
 * pages_to_scan so that a full scan takes about advisor_target_scan_time seconds, within
 * 10% .. advisor_max_cpu% of one CPU. Integer arithmetic with truncating division, as the kernel.
 */

export interface AdvisorState {
  /** Seconds the previous full scan took (0 before the first). */
  lastScanSeconds: number;
  /** The damped change factor, percent (an EWMA with weight 30). */
  change: number;
  /** ksmd CPU ms at the previous advisor run. */
  cpuMsAtLastRun: number;
}

export interface AdvisorInput {
  pagesToScan: number;
  /** Whole ms the full scan took, from its start to now. */
  scanMillis: number;
  /** ksmd CPU ms consumed in all, so far. */
  cpuMsTotal: number;
  maxCpu: number;
  maxPagesToScan: number;
  targetScanTime: number;
}

export const initialAdvisorState = (): AdvisorState => ({ lastScanSeconds: 0, change: 0, cpuMsAtLastRun: 0 });

const EWMA_WEIGHT = 30;
const MIN_CPU_PERCENT = 10;

/** Returns the next pages_to_scan and updates `state`. */
export function adviseScanTime(state: AdvisorState, input: AdvisorInput): number {
  const seconds = Math.max(1, Math.trunc(input.scanMillis / 1000));
  const cpuMs = input.cpuMsTotal - state.cpuMsAtLastRun;
  const cpuPercent = Math.max(1, Math.trunc((cpuMs * 100) / (seconds * 1000)));
  const last = state.lastScanSeconds || seconds;
  const factor = Math.max(1, Math.trunc((input.targetScanTime * 100) / seconds));
  let change = Math.max(1, Math.trunc((seconds * 100) / last));
  change = Math.trunc(((100 - EWMA_WEIGHT) * state.change + EWMA_WEIGHT * change) / 100);

  let pages = Math.trunc((input.pagesToScan * 100) / factor);
  pages = Math.trunc((pages * change) / 100);
  const pagesPerCpuPercent = Math.max(1, Math.trunc(input.pagesToScan / cpuPercent));
  pages = Math.min(pages, pagesPerCpuPercent * input.maxCpu);
  pages = Math.max(pages, pagesPerCpuPercent * MIN_CPU_PERCENT);
  pages = Math.min(pages, input.maxPagesToScan);

  state.change = change;
  state.lastScanSeconds = seconds;
  state.cpuMsAtLastRun = input.cpuMsTotal;
  return pages;
}
