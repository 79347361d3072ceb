/**
 * The verdict at the end of `estimate`: for these inputs, what KSM saves and how long it takes to
 * get there under the kernel's default knobs (once run=1), under ksmtuned, and under the fastest
 * pages_to_scan whose ksmd CPU stays under a cap, each against ksmd's estimated CPU; and what
 * sharing domains cost. Every threshold behind the recommendation is printed with it. From merged
 * shard results (`ksm-wasm merge`) the paces and the recommendation are the same; ksmtuned and the
 * domain comparison, which need runs of their own over all the pages, are said to be left out.
 *
 * On a static workload the merge state a run settles in does not depend on the knobs, only the
 * time and CPU to get there (timing.ts), so the three paces are projected from the one run; the
 * ksmtuned line is its own simulation (policy.ts), since its knobs change as memory frees up.
 */
import { bytes, duration } from '../cli/format.js';
import { scanCpuMs } from './cpu.js';
import type { DomainComparison } from './domains.js';
import type { PolicyRun } from './policy.js';
import type { EstimateRun } from './run.js';
import { PAGE_SIZE, inputPages } from './source.js';
import { batchesPerScan, projectScanTimes } from './timing.js';

/** The default CPU cap, as a share of one core. */
export const DEFAULT_CPU_CAP = 0.1;
/** Below this share of the inputs' memory saved, KSM is not worth running. */
export const WORTH_IT_SHARE = 0.01;
/** The host the ksmtuned line assumes without --host-memory: the inputs' memory and this much more. */
export const DEFAULT_HOST_HEADROOM = 0.25;
/** pages_to_scan values tried for the fastest knobs under the cap (sleep_millisecs stays 20). */
const PAGES_TO_SCAN_LADDER = [100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
const DEFAULT_SLEEP = 20;

export interface PaceFigures {
  pagesToScan: number;
  sleepMillisecs: number;
  /** Simulated ms to the settling scan. */
  settleMs: number;
  /** ksmd's CPU share of one core until then, and in a steady scan after. */
  settlingCpu: number;
  steadyCpu: number;
}

/** CPU ms over elapsed ms, as a share of one core (ksmd's CPU time adds to its sleeps). */
const share = (cpuMs: number, elapsedMs: number): number => (elapsedMs + cpuMs > 0 ? cpuMs / (elapsedMs + cpuMs) : 0);

/** The run's scans projected onto other knobs. */
export function paceAt(run: EstimateRun, pagesToScan: number, sleepMillisecs: number): PaceFigures {
  const works = run.scans.map((s) => s.work);
  const times = projectScanTimes(works, pagesToScan, sleepMillisecs, run.profile);
  const cpu = run.scans.map((s) => scanCpuMs({ ...s.work, batches: batchesPerScan(s.work.processed, pagesToScan) }, run.profile));
  const settled = Math.max(1, run.settledAt);
  const settleMs = times[settled - 1];
  const settleCpu = cpu.slice(0, settled).reduce((a, b) => a + b, 0);
  const n = times.length;
  const steadyCpu = share(cpu[n - 1], times[n - 1] - (times[n - 2] ?? 0));
  return { pagesToScan, sleepMillisecs, settleMs, settlingCpu: share(settleCpu, settleMs), steadyCpu };
}

/** The largest pages_to_scan of the ladder whose CPU, while settling and after, stays under the cap. */
export function fastestUnderCap(run: EstimateRun, cap: number): PaceFigures | undefined {
  let best: PaceFigures | undefined;
  for (const pts of PAGES_TO_SCAN_LADDER) {
    const pace = paceAt(run, pts, DEFAULT_SLEEP);
    if (Math.max(pace.settlingCpu, pace.steadyCpu) <= cap) best = pace;
  }
  return best;
}

export interface VerdictInputs {
  run: EstimateRun;
  savedBytes: number;
  cap: number;
  /** ksmtuned's own simulation; absent for merged shard results (no shard sees the host's free memory). */
  ksmtuned?: PolicyRun;
  /** Why the estimate left ksmtuned's simulation out (it runs as one engine, and these inputs are more than one holds). */
  ksmtunedSkipped?: string;
  /** Whether --host-memory was given (else the ksmtuned line assumed DEFAULT_HOST_HEADROOM). */
  hostGiven: boolean;
  domains: DomainComparison | undefined;
  /** The domain run's meaning: the --domain mapping, or a domain per input. */
  domainsFromMapping: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 3 : 1)}%`;

export function formatVerdict(v: VerdictInputs): string[] {
  const pages = inputPages(v.run.spaces);
  const inputs = pages * PAGE_SIZE;
  const saved = `${bytes(v.savedBytes)} (${pct(inputs > 0 ? v.savedBytes / inputs : 0)})`;
  const defaults = paceAt(v.run, 100, DEFAULT_SLEEP);
  const fastest = fastestUnderCap(v.run, v.cap);
  const cpu = (p: { settlingCpu: number; steadyCpu: number }) => `ksmd ~${pct(p.settlingCpu)} of a core while settling, ~${pct(p.steadyCpu)} after`;
  const out = [
    'Verdict:',
    `  kernel defaults (run=0 saves nothing; with run=1: 100 pages / 20 ms): ${saved} saved after ${duration(defaults.settleMs)}; ${cpu(defaults)}.`,
    v.ksmtuned
      ? `  ${ksmtunedLine(v.ksmtuned, v.hostGiven, inputs)}`
      : v.ksmtunedSkipped
        ? `  ksmtuned: not simulated: its simulation follows the host's free memory as ksmd runs, so it runs as one engine, and ${v.ksmtunedSkipped}.`
        : '  ksmtuned and sharing domains: not from shard results (ksmtuned follows the host\'s free memory as ksmd runs, which no shard sees, and a domain comparison is a run of its own): estimate the inputs on one machine for them.',
    fastest
      ? `  fastest under ${pct(v.cap)} of a core: pages_to_scan ${fastest.pagesToScan} / 20 ms: ${saved} saved after ${duration(fastest.settleMs)}; ${cpu(fastest)}.`
      : `  no pages_to_scan (100 or more, every 20 ms) keeps ksmd under ${pct(v.cap)} of a core on these inputs.`,
  ];
  if (v.domains) {
    const d = v.domains;
    const [label, kept] = v.domainsFromMapping ? [`per-tenant domains (${d.tenants})`, d.perTenantBytes] : [`a domain per input (${d.spaces}; no --domain given)`, d.perSpaceBytes];
    const lost = d.oneDomainBytes - kept;
    out.push(`  ${label}: ${bytes(kept)} saved, ${bytes(lost)} (${pct(d.oneDomainBytes > 0 ? lost / d.oneDomainBytes : 0)}) less than one domain: the price of no cross-tenant side channel.`);
  }
  out.push(recommendation(v, fastest, defaults, inputs));
  out.push(`  Thresholds: CPU cap ${pct(v.cap)} of one core (--cpu-cap), against the larger of ksmd's share while settling and after; ` +
    `worth running if it saves at least ${pct(WORTH_IT_SHARE)} of the inputs' memory; CPU from the clock profile's costs per batch, page and merge (docs/clock.md: within 25% of the real ksmd on the recorded runs of the session it was measured in).`);
  return out;
}

function ksmtunedLine(run: PolicyRun, hostGiven: boolean, inputs: number): string {
  const host = `host ${bytes(run.hostBytes)}${hostGiven ? '' : `: the inputs + ${DEFAULT_HOST_HEADROOM * 100}%, set it with --host-memory`}`;
  if (run.startedAtMs === null) return `ksmtuned (${host}): never starts ksmd (committed + thres < MemTotal and free > thres): nothing saved, no CPU.`;
  const last = run.intervals[run.intervals.length - 1];
  const reached = run.intervals.find((r) => r.savedBytes === last.savedBytes && r.stats.pagesShared === last.stats.pagesShared) ?? last;
  const settling = run.intervals.filter((r) => r.atMs > run.startedAtMs! && r.atMs <= reached.atMs);
  const cpuMs = settling.reduce((a, r) => a + r.cpuMs, 0);
  const span = reached.atMs - run.startedAtMs;
  return `ksmtuned (${host}): ${bytes(last.savedBytes)} (${pct(inputs > 0 ? last.savedBytes / inputs : 0)}) saved after ${duration(reached.atMs)} ` +
    `(started at ${duration(run.startedAtMs)}); ksmd ~${pct(share(cpuMs, span))} of a core while settling, ~${pct(last.cpuShare)} after` +
    `${last.decision.run === 0 ? ' (it stopped ksmd)' : ` (pages_to_scan ${last.decision.pagesToScan} every ${last.decision.sleepMillisecs} ms)`}.`;
}

function recommendation(v: VerdictInputs, fastest: PaceFigures | undefined, defaults: PaceFigures, inputs: number): string {
  if (inputs === 0 || v.savedBytes < WORTH_IT_SHARE * inputs) {
    return `  So: KSM is not worth running on these inputs: it saves ${bytes(v.savedBytes)}, under ${pct(WORTH_IT_SHARE)} of their ${bytes(inputs)}; leave run=0.`;
  }
  if (!fastest) return `  So: KSM saves ${bytes(v.savedBytes)} here, but every pace costs more than ${pct(v.cap)} of a core; the defaults get there in ${duration(defaults.settleMs)}.`;
  return `  So: turn KSM on (run=1) with pages_to_scan ${fastest.pagesToScan}: ${bytes(v.savedBytes)} saved after ${duration(fastest.settleMs)}, within the CPU cap` +
    `${fastest.pagesToScan === 100 ? ' (the defaults are the fastest pace that stays under it)' : `; the defaults take ${duration(defaults.settleMs)}`}.`;
}
