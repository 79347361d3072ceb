/**
 * The seed's case, live: the estimate against the real ksmd on the very same stopped QEMU guests.
 * `guests.ts compare` boots them, runs `ksm-wasm estimate --pid` on them (reading only) in every
 * way it can run (configurations()), lets the real ksmd settle on them (settle.ts), kills them, and
 * compares, for each way, every full scan's counters, each guest's ksm_stat and the memory really
 * freed (KSM pages plus zero subpages of split huge pages, from the guests' page maps) with what the
 * estimate predicted. Exit status 1 on any difference.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SettleResult } from './settle.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const SCAN_KEYS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'ksm_zero_pages', 'stable_node_chains', 'stable_node_dups'];

export interface Estimate {
  mode: string; shards: number;
  scans: Array<Record<string, number>>; spaces: Array<Record<string, number>>; converged: Record<string, number | null>;
}

/**
 * A way to run the estimate on the guests, and how it must meet the kernel: `every scan`, or
 * `from settled` (the scans before the kernel's settled one may differ; settled_at and every scan
 * from it on may not, nor the guests' ksm_stat and the pages freed).
 */
export interface Configuration { args: readonly string[]; equal: 'every scan' | 'from settled' }

/**
 * The ways an estimate runs on live processes: as a user runs it (the defaults: auto's mode, the
 * machine's threads), and each engine in one thread; without huge pages, also in content shards on
 * worker threads, whose hashing threads read /proc/PID/mem themselves (with them, a run is one
 * shard, src/shards/partition.ts). With huge pages the fingerprint engine's scans in which huge
 * pages split may differ from ksmd's (its tree is in fingerprint order, docs/fingerprints.md).
 */
export function configurations(hugePages: boolean): Configuration[] {
  const runs: Configuration[] = [
    { args: [], equal: 'every scan' },
    { args: ['--mode', 'pages', '--threads', '1'], equal: 'every scan' },
    { args: ['--mode', 'fingerprints', '--threads', '1'], equal: hugePages ? 'from settled' : 'every scan' },
  ];
  if (hugePages) return runs;
  return [...runs, { args: ['--mode', 'pages', '--threads', '2'], equal: 'every scan' }, { args: ['--mode', 'fingerprints', '--threads', '3'], equal: 'every scan' }];
}

/** How a configuration is named in the output. */
export const configurationName = (c: Configuration): string => (c.args.length ? c.args.join(' ') : '(defaults)');

export interface ConfiguredEstimate {
  options: string; equal: Configuration['equal']; seconds: number; estimate: Estimate;
  /** What the estimate said on stderr about transparent huge pages (hugePagesNote), if anything. */
  hugePagesNote?: string;
}

/** Milliseconds as seconds to a tenth, as the JSON gives times. */
export const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** ksm-wasm estimate --pid on the guests, with the settle's knobs and stopping rule, in each configuration, as JSON. */
export function estimateGuests(pids: number[], knobs: { pagesToScan: number; smartScan: number; useZeroPages: number; maxScans: number; stable: number }, runs: readonly Configuration[]): ConfiguredEstimate[] {
  const args = [CLI, 'estimate', '--pid', pids.join(','), '--pages-to-scan', String(knobs.pagesToScan), '--sleep-millisecs', '0',
    '--smart-scan', String(knobs.smartScan), '--use-zero-pages', String(knobs.useZeroPages), '--max-scans', String(knobs.maxScans),
    '--stable-scans', String(knobs.stable), '--json'];
  return runs.map((configuration) => {
    const options = configurationName(configuration);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...args, ...configuration.args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`estimate ${options} failed (${r.status}): ${r.stderr.trim()}`);
    const hugePagesNote = r.stderr.split('\n').find((line) => /^ksm-wasm estimate: note: .* transparent huge pages/.test(line));
    return { options, equal: configuration.equal, seconds: seconds(performance.now() - t0), estimate: JSON.parse(r.stdout) as Estimate, hugePagesNote };
  });
}

/**
 * Lines saying where the estimate and the kernel differ (none: they are equal), over every full
 * scan or, `from settled`, over settled_at and the scans from the kernel's settled one on (every
 * scan if the kernel did not settle).
 */
export function differences(estimate: Estimate, kernel: SettleResult, equal: Configuration['equal'] = 'every scan'): string[] {
  const out: string[] = [];
  const fromSettled = equal === 'from settled' && kernel.converged;
  const first = fromSettled ? kernel.settledAt - 1 : 0;
  if (fromSettled && estimate.converged.settled_at_full_scan !== kernel.settledAt) {
    out.push(`settled at full scan: estimate ${estimate.converged.settled_at_full_scan}, kernel ${kernel.settledAt}`);
  }
  kernel.scans.forEach((k, i) => {
    if (i < first) return;
    const e = estimate.scans[i];
    if (!e) { out.push(`full scan ${i + 1}: the estimate stopped before it`); return; }
    for (const key of SCAN_KEYS) if (e[key] !== k.counters[key]) out.push(`full scan ${i + 1}: ${key} estimate ${e[key]}, kernel ${k.counters[key]}`);
    k.spaces.forEach((ks, g) => {
      for (const key of ['ksm_rmap_items', 'ksm_merging_pages', 'ksm_zero_pages']) {
        if (estimate.spaces.length && i === kernel.scans.length - 1 && estimate.spaces[g][key] !== ks[key]) out.push(`guest ${g + 1}: ${key} estimate ${estimate.spaces[g][key]}, kernel ${ks[key]}`);
      }
    });
  });
  const last = estimate.scans[kernel.scans.length - 1];
  if (last) {
    const { byKsmMerges, byZeroSubpages } = kernel.freed;
    if (last.pages_sharing !== byKsmMerges) out.push(`pages freed by KSM merges: estimate ${last.pages_sharing}, kernel's page maps ${byKsmMerges}`);
    if (last.split_zero_pages !== byZeroSubpages) out.push(`zero subpages freed by splits: estimate ${last.split_zero_pages}, kernel's page maps ${byZeroSubpages}`);
  }
  return out;
}
