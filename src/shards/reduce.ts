/**
 * From the shards' summed counters, full scan by full scan, to the estimate's scans: the time
 * figures (simulated_ms, ksmd_cpu_ms) are computed from the summed counts of each full scan, with
 * the batches the whole run would take (a batch never crosses the end of a full scan, so a scan
 * that processes p pages takes floor(p / pages_to_scan) + 1 of them), exactly as one engine's run
 * computes them. Convergence is decided on the sums (src/estimate/convergence.ts).
 */
import type { EngineCounters } from '../backend.js';
import { kernelStats } from '../stats.js';
import { hasConverged, settledAt } from '../estimate/convergence.js';
import { scanCpuMs, scanWork } from '../estimate/cpu.js';
import type { EstimateKnobs } from '../estimate/knobs.js';
import type { ClockProfile } from '../estimate/profile.js';
import type { EstimateRun, ScanRecord, SpaceRecord } from '../estimate/run.js';
import { batchesPerScan, KernelClock } from '../estimate/timing.js';
import type { ShardScan } from './engine.js';
import type { EstimateMode } from '../estimate/mode.js';

const NO_COUNTERS: EngineCounters = {
  pagesShared: 0, pagesSharing: 0, pagesUnshared: 0, rmapItems: 0, pagesScanned: 0, pagesSkipped: 0,
  fullScans: 0, stableNodeChains: 0, stableNodeDups: 0, ksmZeroPages: 0, cowKsm: 0,
};

/** Summed scans in, ScanRecords out (time figures cumulative from run=1). */
export class ScanReducer {
  readonly scans: ScanRecord[] = [];
  readonly spacesPerScan: SpaceRecord[][] = [];
  readonly #clock: KernelClock;
  #last = NO_COUNTERS;
  #batches = 0;
  #cpuMs = 0;
  #wallMs = 0;

  constructor(readonly knobs: EstimateKnobs, readonly profile: ClockProfile) {
    this.#clock = new KernelClock(profile, knobs.sleepMillisecs);
  }

  /** Adds one full scan's sum; `wallMs` is what that step took (not cumulative). */
  add(sum: ShardScan, wallMs = sum.wallMs): ScanRecord {
    const processed = sum.counters.pagesScanned - this.#last.pagesScanned;
    const work = scanWork(this.#last, sum.counters, batchesPerScan(processed, this.knobs.pagesToScan));
    const scanCpu = scanCpuMs(work, this.profile);
    const simulatedMs = this.#clock.scan(work.batches, scanCpu);
    this.#batches += work.batches;
    this.#cpuMs += scanCpu;
    this.#wallMs += wallMs;
    this.#last = sum.counters;
    const record: ScanRecord = { ...kernelStats(sum.counters), simulatedMs, wallMs: this.#wallMs, batches: this.#batches, splitZeroPages: sum.splitZeroPages, work, cpuMs: this.#cpuMs };
    this.scans.push(record);
    this.spacesPerScan.push(sum.spaces);
    return record;
  }

  /** The merge state has been the same for `stableScans` full scans. */
  converged(stableScans: number): boolean { return hasConverged(this.scans, stableScans); }
}

/** What a sharded run says about itself beside the scans. */
export interface ShardedRunFacts {
  spaces: EstimateRun['spaces'];
  stableScans: number;
  readMs: number;
  startupMs: number;
  shards: number;
  /** The engine the shards ran on. */
  mode: EstimateMode;
}

export function shardedRun(reducer: ScanReducer, facts: ShardedRunFacts): EstimateRun {
  return {
    knobs: reducer.knobs,
    profile: reducer.profile,
    spaces: facts.spaces,
    scans: reducer.scans,
    spacesPerScan: reducer.spacesPerScan,
    converged: reducer.converged(facts.stableScans),
    settledAt: settledAt(reducer.scans),
    readMs: facts.readMs,
    startupMs: facts.startupMs,
    shards: facts.shards,
    mode: facts.mode,
  };
}
