/**
 * The seed's case, live: the estimate against the real ksmd on the very same stopped QEMU guests.
 * `guests.ts compare` boots them, runs `ksm-wasm estimate --pid` on them (reading only), lets the
 * real ksmd settle on them (settle.ts), kills them, and compares every full scan's counters, each
 * guest's ksm_stat and the memory really freed (KSM pages plus zero subpages of split huge pages,
 * from the guests' page maps) with what the estimate predicted. Exit status 1 on any difference.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SettleResult } from './settle.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const SCAN_KEYS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'ksm_zero_pages', 'stable_node_chains', 'stable_node_dups'];

export interface Estimate { scans: Array<Record<string, number>>; spaces: Array<Record<string, number>>; converged: Record<string, number | null> }

/** ksm-wasm estimate --pid on the guests, with the settle's knobs, as JSON. */
export function estimateGuests(pids: number[], knobs: { pagesToScan: number; smartScan: number; useZeroPages: number; maxScans: number }): Estimate {
  const args = [CLI, 'estimate', '--pid', pids.join(','), '--pages-to-scan', String(knobs.pagesToScan), '--sleep-millisecs', '0',
    '--smart-scan', String(knobs.smartScan), '--use-zero-pages', String(knobs.useZeroPages), '--max-scans', String(knobs.maxScans), '--json'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`estimate failed (${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Estimate;
}

/** Lines saying where the estimate and the kernel differ (none: they are equal). */
export function differences(estimate: Estimate, kernel: SettleResult): string[] {
  const out: string[] = [];
  kernel.scans.forEach((k, i) => {
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
