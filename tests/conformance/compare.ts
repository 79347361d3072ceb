/**
 * Holding an engine run (through the estimate command's code and JSON) against a kernel run:
 * every counter after every full scan, the number of batches ksmd took to get there, each space's
 * ksm_stat after every full scan, the number of scans and settled_at_full_scan.
 */
import { estimateJson, SCAN_KEYS } from '../../src/estimate/json.js';
import type { EstimateRun } from '../../src/estimate/run.js';
import type { KernelRun } from './harness.js';

const STAT_KEYS = ['ksm_rmap_items', 'ksm_merging_pages', 'ksm_zero_pages', 'ksm_process_profit'] as const;

export interface Difference { scan: number; what: string; kernel: number | boolean | null; engine: number | boolean | null }

export function compareRuns(kernel: KernelRun, engine: EstimateRun): Difference[] {
  const json = estimateJson(engine);
  const diffs: Difference[] = [];
  const note = (scan: number, what: string, k: number | boolean | null, e: number | boolean | null) => { if (k !== e) diffs.push({ scan, what, kernel: k, engine: e }); };
  note(0, 'number of full scans', kernel.scans.length, json.scans.length);
  note(0, 'converged', kernel.converged, engine.converged);
  // null when the merge state did not settle within the scans allowed (the JSON contract).
  note(0, 'settled_at_full_scan', kernel.converged ? kernel.settledAt : null, json.converged.settled_at_full_scan);
  kernel.scans.forEach((k, i) => {
    const e = json.scans[i];
    if (!e) return;
    for (const key of SCAN_KEYS) {
      // Times are checked against the free-running kernel (tests/estimate-clock.test.ts); here ksmd is stepped.
      if (key === 'wall_ms' || key === 'simulated_ms' || key === 'ksmd_cpu_ms') continue;
      // No kernel counter: the guests here are MADV_NOHUGEPAGE, so no huge page is split.
      if (key === 'split_zero_pages') { note(i + 1, key, 0, e[key]); continue; }
      note(i + 1, key, k.counters[key], e[key]);
    }
    note(i + 1, 'batches', k.batches, engine.scans[i].batches);
    k.spaces.forEach((stat, s) => {
      const mine = engine.spacesPerScan[i][s] as unknown as Record<string, number>;
      const camel: Record<string, string> = { ksm_rmap_items: 'ksmRmapItems', ksm_merging_pages: 'ksmMergingPages', ksm_zero_pages: 'ksmZeroPages', ksm_process_profit: 'ksmProcessProfit' };
      for (const key of STAT_KEYS) note(i + 1, `space ${s} ${key}`, stat[key], mine[camel[key]]);
    });
  });
  const last = kernel.scans[kernel.scans.length - 1];
  if (last && json.scans.length === kernel.scans.length) {
    json.spaces.forEach((sp, s) => { for (const key of STAT_KEYS) note(json.scans.length, `JSON spaces[${s}].${key}`, last.spaces[s][key], sp[key] as number); });
  }
  return diffs;
}

export function formatDifferences(diffs: Difference[], limit = 12): string {
  return diffs.slice(0, limit).map((d) => `  after full scan ${d.scan}: ${d.what}: kernel ${d.kernel}, engine ${d.engine}`).join('\n') +
    (diffs.length > limit ? `\n  … and ${diffs.length - limit} more` : '');
}
