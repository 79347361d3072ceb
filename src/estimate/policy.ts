/**
 * `estimate --policy ksmtuned --host-memory SIZE`: ksmtuned (src/policy/ksmtuned.ts) run over
 * simulated time on the inputs. The host has SIZE of memory; the guests' committed memory is the
 * inputs' pages; free memory is the host's minus the frames the engine holds now (so it rises as
 * pages merge). Every monitor interval ksmtuned decides; while run is 1, ksmd runs the interval's
 * batches at the knobs it wrote (a batch as soon as it starts, then one after each sleep, the
 * sleep rounded to whole jiffies as the kernel sleeps it). It stops when nothing can change any
 * more: ksmd off with the same figures twice, or the merge state, figures and knobs unchanged
 * through --stable-scans full scans; or after a simulated day of intervals.
 */
import type { EngineName } from '../backend.js';
import { Ksm } from '../ksm.js';
import { KsmError } from '../errors.js';
import type { KsmStats } from '../stats.js';
import { Ksmtuned, type KsmtunedDecision } from '../policy/ksmtuned.js';
import { CliError } from '../cli/errors.js';
import { bytes } from '../cli/format.js';
import { scanCpuMs, scanWork } from './cpu.js';
import type { EstimateKnobs } from './knobs.js';
import { CapExceeded, loadSpaces, setKnobs } from './run.js';
import { PAGE_SIZE, inputPages, type ImageSource } from './source.js';
import { loadProfile } from './profile.js';
import { sleepTicks } from './timing.js';

/** The host's ksmd as the shipped clock profile has it (its timers, and its CPU per kind of work). */
const PROFILE = loadProfile(undefined);

/** How long a sleep of `ms` lasts by ksmd's timers (whole ticks, and the extra one a timer takes). */
const timerSleepMs = (ms: number): number => (ms === 0 ? 0 : (sleepTicks(ms, PROFILE.hz) + PROFILE.extraTicks) * (1000 / PROFILE.hz));

/** The policies --policy knows. */
export const POLICIES = ['ksmtuned'] as const;
export type PolicyName = (typeof POLICIES)[number];

/** At most this many monitor intervals are simulated (a day at ksmtuned's default of 60 s). */
export const MAX_POLICY_INTERVALS = 1440;

export interface PolicyInterval {
  /** Simulated ms at the decision (the end of the interval). */
  atMs: number;
  committedKb: number;
  freeKb: number;
  decision: KsmtunedDecision;
  /** ksmd batches run in the interval that ended with this decision. */
  batches: number;
  /** The kernel's counters at the decision. */
  stats: KsmStats;
  /** (pages_sharing + ksm_zero_pages) × 4096 at the decision. */
  savedBytes: number;
  /** Estimated ksmd CPU ms in the interval (central), and as a share of one core. */
  cpuMs: number;
  cpuShare: number;
}

export interface PolicyRun {
  policy: PolicyName;
  config: Ksmtuned['config'];
  hostBytes: number;
  thresKb: number;
  sleepMillisecs: number;
  intervalMs: number;
  intervals: PolicyInterval[];
  /** Simulated ms of the first decision that started ksmd, or null. */
  startedAtMs: number | null;
  /** Whether the simulation reached a state that cannot change (else it hit MAX_POLICY_INTERVALS). */
  settled: boolean;
}

export interface PolicySimulation {
  hostKb: number;
  /** The guests' committed memory now, kB. */
  committedKb: () => number;
  /** Moves the Ksm's clock on by `ms`. */
  advance: (ms: number) => void;
  /** Intervals in a row with nothing changing that end the simulation. */
  stableIntervals: number;
  maxIntervals?: number;
  /** Called before each interval (a test grows the guests here). */
  beforeInterval?: (index: number) => void;
}

/** Runs ksmtuned's loop on `ksm` (whose clock `sim.advance` moves) until nothing can change. */
export function simulateKsmtuned(ksm: Ksm, tuned: Ksmtuned, sim: PolicySimulation): PolicyRun {
  const intervals: PolicyInterval[] = [];
  const max = sim.maxIntervals ?? MAX_POLICY_INTERVALS;
  let settled = false;
  for (let i = 0; i < max && !settled; i++) {
    sim.beforeInterval?.(i);
    const before = ksm.stats();
    const batches = runInterval(ksm, tuned.intervalMs, sim.advance);
    const stats = ksm.stats();
    const cpuMs = batches > 0 ? scanCpuMs(scanWork(before, stats, batches), PROFILE) : 0;
    const committedKb = sim.committedKb();
    const freeKb = Math.max(0, sim.hostKb - ksm.live().framesInUse * (PAGE_SIZE / 1024));
    const decision = tuned.adjust({ committedKb, freeKb });
    Ksmtuned.apply(ksm, decision);
    intervals.push({
      atMs: (i + 1) * tuned.intervalMs, committedKb, freeKb, decision, batches, stats,
      savedBytes: (stats.pagesSharing + stats.ksmZeroPages) * PAGE_SIZE, cpuMs, cpuShare: cpuMs / tuned.intervalMs,
    });
    settled = cannotChange(intervals, sim.stableIntervals);
  }
  const started = intervals.find((r) => r.decision.run === 1);
  return {
    policy: 'ksmtuned', config: tuned.config, hostBytes: sim.hostKb * 1024, thresKb: tuned.thresKb, sleepMillisecs: tuned.sleepMillisecs,
    intervalMs: tuned.intervalMs, intervals, startedAtMs: started?.atMs ?? null, settled,
  };
}

/** ksmd through one monitor interval at the knobs now written; returns the batches it ran. */
function runInterval(ksm: Ksm, intervalMs: number, advance: (ms: number) => void): number {
  if (ksm.knobs.run !== 1) { advance(intervalMs); return 0; }
  const sleep = Math.max(1, timerSleepMs(ksm.knobs.sleepMillisecs));
  let batches = 0;
  for (let t = 0; t < intervalMs; t += sleep) {
    const batch = ksm.scan();
    if (!batch.ran) break;
    batches++;
    advance(Math.min(sleep, intervalMs - t));
  }
  return batches;
}

const MERGE_STATE: ReadonlyArray<keyof KsmStats> = ['pagesShared', 'pagesSharing', 'pagesUnshared', 'ksmZeroPages', 'stableNodeChains', 'stableNodeDups'];

/**
 * Nothing can change any more: ksmd is off and was off with the same figures at the decision
 * before; or ksmd runs and the merge state, the memory figures and the decision have not changed
 * while ksmd completed `stable` full scans (the estimate's own settling rule).
 */
function cannotChange(intervals: readonly PolicyInterval[], stable: number): boolean {
  const last = intervals[intervals.length - 1];
  const same = (a: PolicyInterval, b: PolicyInterval) => a.committedKb === b.committedKb && a.freeKb === b.freeKb
    && a.decision.run === b.decision.run && a.decision.npages === b.decision.npages
    && MERGE_STATE.every((k) => a.stats[k] === b.stats[k]);
  let since = intervals.length - 1;
  while (since > 0 && same(intervals[since - 1], last)) since--;
  if (since === intervals.length - 1) return false;
  if (last.decision.run === 0) return true;
  return last.stats.fullScans - intervals[since].stats.fullScans >= stable;
}

export interface PolicyEstimateSettings {
  policy: PolicyName;
  knobs: EstimateKnobs;
  hostMemory: number;
  maxMemory: number;
  stableScans: number;
  engine?: EngineName;
  domainOf?: (index: number) => string | undefined;
}

/**
 * The inputs as guests of a host of `hostMemory` bytes, under the policy. Refuses a host smaller
 * than its guests: they could not all be resident, and ksmtuned's figures would be meaningless.
 */
export async function runPolicyEstimate(sources: readonly ImageSource[], settings: PolicyEstimateSettings): Promise<PolicyRun> {
  const pages = inputPages(sources);
  checkHostMemory(pages, settings.hostMemory);
  let now = 0;
  const ksm = await Ksm.create({ engine: settings.engine ?? 'wasm', maxMemory: settings.maxMemory, clock: () => now });
  const hostKb = settings.hostMemory / 1024;
  try {
    setKnobs(ksm, settings.knobs);
    loadSpaces(ksm, sources, settings.maxMemory, settings.domainOf);
    return simulateKsmtuned(ksm, new Ksmtuned(hostKb), {
      hostKb, committedKb: () => pages * (PAGE_SIZE / 1024), advance: (ms) => { now += ms; }, stableIntervals: settings.stableScans,
    });
  } catch (error) {
    ksm.close(); // its memory goes now, not at the next collection (the caller may go on without it)
    if (error instanceof KsmError && error.code === 'ENOMEM') {
      throw new CapExceeded(`ksmd's rmap items and stable nodes do not fit beside the inputs under the engine's memory cap of ${bytes(settings.maxMemory)} (raise it with --max-memory)`);
    }
    throw error;
  }
}

/** --host-memory must hold the guests. */
export function checkHostMemory(pages: number, hostMemory: number): void {
  if (pages * PAGE_SIZE > hostMemory) {
    throw new CliError('input', `--host-memory ${bytes(hostMemory)}: smaller than the inputs (${bytes(pages * PAGE_SIZE)} of pages); a host holds its guests' memory`);
  }
}
