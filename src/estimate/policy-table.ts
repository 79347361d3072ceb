/**
 * What `estimate --policy ksmtuned` prints: the policy's fixed figures, one row per monitor
 * interval where something changed, and what it comes to (when ksmd started, where the savings
 * settled, what ksmd's CPU costs then). `--json` gives every interval.
 */
import { bytes, duration } from '../cli/format.js';
import { KSMTUNED_MIN_SLEEP_MSEC } from '../policy/ksmtuned.js';
import type { PolicyInterval, PolicyRun } from './policy.js';

const KB = 1024;
const pct = (x: number) => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1)}%`;

const COLUMNS: Array<[string, (r: PolicyInterval) => string]> = [
  ['time', (r) => duration(r.atMs)],
  ['committed', (r) => bytes(r.committedKb * KB)],
  ['free', (r) => bytes(r.freeKb * KB)],
  ['decision', (r) => (r.decision.run === 0 ? 'stop' : r.decision.reason)],
  ['pages_to_scan', (r) => (r.decision.run === 1 ? String(r.decision.pagesToScan) : '-')],
  ['batches', (r) => String(r.batches)],
  ['shared', (r) => String(r.stats.pagesShared)],
  ['sharing', (r) => String(r.stats.pagesSharing)],
  ['zero', (r) => String(r.stats.ksmZeroPages)],
  ['saved', (r) => bytes(r.savedBytes)],
  ['ksmd CPU', (r) => pct(r.cpuShare)],
];

/** The row shows something new: a different decision or merge state than the row before. */
function changed(r: PolicyInterval, prev: PolicyInterval | undefined): boolean {
  return prev === undefined || r.decision.run !== prev.decision.run || r.decision.npages !== prev.decision.npages
    || r.savedBytes !== prev.savedBytes || r.stats.pagesShared !== prev.stats.pagesShared || r.freeKb !== prev.freeKb;
}

export function formatPolicy(run: PolicyRun, inputs: number): string {
  const config = run.config;
  const shown = run.intervals.filter((r, i) => changed(r, run.intervals[i - 1]) || i === run.intervals.length - 1);
  const rows = [COLUMNS.map(([h]) => h), ...shown.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  const hidden = run.intervals.length - shown.length;
  return [
    `ksmtuned on a host of ${bytes(run.hostBytes)} with ${inputs} guest${inputs === 1 ? '' : 's'} (${bytes(run.intervals[0]?.committedKb * KB)} committed: the inputs' pages).`,
    `  thres ${bytes(run.thresKb * KB)}: KSM_THRES_COEF ${config.KSM_THRES_COEF}% of MemTotal, at least KSM_THRES_CONST ${config.KSM_THRES_CONST} kB.`,
    `  sleep_millisecs ${run.sleepMillisecs}: KSM_SLEEP_MSEC ${config.KSM_SLEEP_MSEC} × 16 GiB / MemTotal, at least ${KSMTUNED_MIN_SLEEP_MSEC}.`,
    `  Every ${duration(run.intervalMs)} (KSM_MONITOR_INTERVAL): stop ksmd if committed + thres < MemTotal and free > thres; else pages_to_scan`,
    `  + ${config.KSM_NPAGES_BOOST} (KSM_NPAGES_BOOST) while free < thres, ${config.KSM_NPAGES_DECAY} (KSM_NPAGES_DECAY) otherwise, within ${config.KSM_NPAGES_MIN}..${config.KSM_NPAGES_MAX}. Free = host memory − frames in use.`,
    '',
    line(rows[0]),
    ...rows.slice(1).map(line),
    ...(hidden > 0 ? [`(${hidden} interval${hidden === 1 ? '' : 's'} with nothing new not shown; --json has them all)`] : []),
    '',
    ...verdict(run),
  ].join('\n') + '\n';
}

function verdict(run: PolicyRun): string[] {
  const last = run.intervals[run.intervals.length - 1];
  if (run.startedAtMs === null) {
    return [`ksmtuned never started ksmd: at every decision committed + thres < MemTotal and free > thres — this host has memory to spare, and nothing is saved.`];
  }
  const first = run.intervals.find((r) => r.savedBytes === last.savedBytes && r.stats.pagesShared === last.stats.pagesShared) ?? last;
  const guest = last.committedKb * KB;
  const out = [
    `ksmtuned started ksmd after ${duration(run.startedAtMs)}; the savings reached ${bytes(last.savedBytes)} of ${bytes(guest)} (${pct(guest > 0 ? last.savedBytes / guest : 0)}) after ${duration(first.atMs)}.`,
    last.decision.run === 1
      ? `There ksmd keeps running at pages_to_scan ${last.decision.pagesToScan}, sleep_millisecs ${last.decision.sleepMillisecs}: about ${pct(last.cpuShare)} of a core (estimated from the real ksmd's per-page costs).`
      : `Then memory was plentiful again and ksmtuned stopped ksmd (run=0); the merged pages stay merged, at no CPU cost.`,
  ];
  if (!run.settled) out.push(`The simulation stopped after ${run.intervals.length} intervals (${duration(last.atMs)}) before the state stopped changing.`);
  return out;
}

/** --json with --policy: every interval. */
export function policyJson(run: PolicyRun): Record<string, unknown> {
  return {
    policy: run.policy,
    config: { ...run.config },
    host_memory_bytes: run.hostBytes,
    thres_kb: run.thresKb,
    sleep_millisecs: run.sleepMillisecs,
    interval_ms: run.intervalMs,
    started_at_ms: run.startedAtMs,
    settled: run.settled,
    intervals: run.intervals.map((r) => ({
      at_ms: r.atMs, committed_kb: r.committedKb, free_kb: r.freeKb, run: r.decision.run, reason: r.decision.reason,
      pages_to_scan: r.decision.run === 1 ? r.decision.pagesToScan : null,
      sleep_millisecs: r.decision.run === 1 ? r.decision.sleepMillisecs : null,
      batches: r.batches, pages_shared: r.stats.pagesShared, pages_sharing: r.stats.pagesSharing,
      ksm_zero_pages: r.stats.ksmZeroPages, saved_bytes: r.savedBytes, cpu_ms: Math.round(r.cpuMs * 1000) / 1000,
    })),
  };
}
