/**
 * The JSON of `ksm-wasm estimate --json`: a contract (docs/estimate-json.md). Keys are the
 * kernel's file names, values are numbers (settled_at_full_scan is null when the merge state did not
 * settle within --max-scans), nothing more and nothing less.
 */
import { sysfsCounters } from '../stats.js';
import type { LiveFacts } from './proc/facts.js';
import type { EstimateRun, ScanRecord } from './run.js';
import { PAGE_SIZE } from './source.js';

export interface EstimateJson {
  page_size: number;
  /** Added to the contract: "pages" (the page engine) or "fingerprints" (--mode). */
  mode: string;
  /** Content shards the run was split into (added to the contract; the counters do not depend on it). */
  shards: number;
  /** ms spent starting the engines (worker threads, compilation) before reading: in no wall_ms. */
  startup_ms: number;
  knobs: Record<string, number>;
  scans: Array<Record<string, number>>;
  /** The last scan's counters, and the scan the merge state settled at (null: not within --max-scans). */
  converged: Record<string, number | null>;
  spaces: Array<Record<string, string | number | boolean>>;
}

/** The counter keys of each scan, in the contract's order. */
export const SCAN_KEYS = [
  'full_scans', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'pages_scanned', 'pages_skipped',
  'stable_node_chains', 'stable_node_dups', 'ksm_zero_pages', 'general_profit', 'simulated_ms', 'ksmd_cpu_ms', 'wall_ms',
  'split_zero_pages',
] as const;

export function estimateJson(run: EstimateRun): EstimateJson {
  const k = run.knobs;
  const scans = run.scans.map(scanJson);
  const last = scans[scans.length - 1] ?? {};
  const finalSpaces = run.spacesPerScan[run.spacesPerScan.length - 1] ?? [];
  return {
    page_size: PAGE_SIZE,
    mode: run.mode,
    shards: run.shards ?? 1,
    startup_ms: round3(run.startupMs ?? 0),
    knobs: {
      pages_to_scan: k.pagesToScan, sleep_millisecs: k.sleepMillisecs, max_page_sharing: k.maxPageSharing,
      use_zero_pages: k.useZeroPages, smart_scan: k.smartScan, merge_across_nodes: k.mergeAcrossNodes,
    },
    scans,
    converged: { ...last, settled_at_full_scan: run.converged ? run.settledAt : null },
    spaces: finalSpaces.flatMap((s, i) => (run.spaces[i]?.live?.exited ? [] : [{
      name: s.name, ksm_rmap_items: s.ksmRmapItems, ksm_merging_pages: s.ksmMergingPages,
      ksm_zero_pages: s.ksmZeroPages, ksm_process_profit: s.ksmProcessProfit,
      ...liveJson(run.spaces[i]?.live),
    }])),
  };
}

/** A live process's identity and page set (keys added to the contract; absent for images). */
function liveJson(live: LiveFacts | undefined): Record<string, string | number | boolean> {
  if (!live) return {};
  return {
    pid: live.pid, comm: live.comm, exact: live.exact, mappings: live.question,
    pages: live.addresses.length, ksm_pages_read: live.ksmPages, thp_pages: live.thpPages,
    zero_page_mapped: live.zeroPageMapped, fork_of: live.forkOf ?? 0, fork_shared_pages: live.sharedWithParent,
    changed_pages: live.changedPages ?? 0, unreadable_pages: live.unreadablePages, frozen: live.frozen ? 1 : 0,
  };
}

function scanJson(scan: ScanRecord): Record<string, number> {
  const counters = sysfsCounters(scan);
  const extra: Record<string, number> = {
    simulated_ms: round3(scan.simulatedMs), ksmd_cpu_ms: round3(scan.cpuMs), wall_ms: Math.round(scan.wallMs * 1000) / 1000,
    // Added to the contract: memory freed by huge-page splits (zero-filled subpages), beside pages_sharing.
    split_zero_pages: scan.splitZeroPages,
  };
  return Object.fromEntries(SCAN_KEYS.map((key) => [key, key in extra ? extra[key] : counters[key]]));
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
