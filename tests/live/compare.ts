/**
 * The estimate (the CLI, --json) against the real ksmd on the same stopped processes: the settled
 * counters and each process's ksm_stat, side by side.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KernelKnobs } from '../conformance/harness.js';
import { kernelSettle } from './kernel.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** The knobs of issue 9's comparison, for both sides. */
export const KNOBS: KernelKnobs = { pages_to_scan: 2000, smart_scan: 0 };
const ESTIMATE_FLAGS = ['--smart-scan', '0', '--pages-to-scan', '2000', '--sleep-millisecs', '0'];

export const FIGURES = ['pages_shared', 'pages_sharing', 'pages_unshared'] as const;

export interface Side { counters: Record<string, number>; spaces: Array<{ ksm_rmap_items: number; ksm_merging_pages: number }> }
export interface Comparison { estimate: Side & { raw: Record<string, unknown> }; kernel: Side }

/** Runs `ksm-wasm estimate --pid …` (as the CLI does) and returns its JSON. */
export async function estimatePids(pids: number[], extra: string[] = []): Promise<Side & { raw: Record<string, unknown> }> {
  const stdout = await new Promise<string>((resolve, reject) => execFile(process.execPath,
    ['--import', 'tsx', CLI, 'estimate', '--pid', pids.join(','), ...ESTIMATE_FLAGS, '--json', ...extra],
    { maxBuffer: 64 << 20, timeout: 300_000 }, (error, out, err) => (error ? reject(new Error(`estimate failed: ${err || error.message}`)) : resolve(out))));
  const json = JSON.parse(stdout);
  return { counters: json.converged, spaces: json.spaces, raw: json };
}

export async function compare(pids: number[], extra: string[] = []): Promise<Comparison> {
  const estimate = await estimatePids(pids, extra);
  const scans = await kernelSettle(pids, KNOBS);
  const last = scans[scans.length - 1];
  return { estimate, kernel: { counters: last.counters, spaces: last.spaces as unknown as Side['spaces'] } };
}

/** The comparison as a markdown table (for the test's message and the report). */
export function table(c: Comparison, labels: string[]): string {
  const rows = [['figure', 'estimate', 'kernel'], ...FIGURES.map((f) => [f, String(c.estimate.counters[f]), String(c.kernel.counters[f])])];
  c.kernel.spaces.forEach((k, i) => {
    const e = c.estimate.spaces[i];
    rows.push([`${labels[i]} ksm_rmap_items`, String(e?.ksm_rmap_items), String(k.ksm_rmap_items)]);
    rows.push([`${labels[i]} ksm_merging_pages`, String(e?.ksm_merging_pages), String(k.ksm_merging_pages)]);
  });
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Every figure equal? */
export function equal(c: Comparison): boolean {
  return FIGURES.every((f) => c.estimate.counters[f] === c.kernel.counters[f])
    && c.kernel.spaces.length === c.estimate.spaces.length
    && c.kernel.spaces.every((k, i) => k.ksm_rmap_items === c.estimate.spaces[i].ksm_rmap_items && k.ksm_merging_pages === c.estimate.spaces[i].ksm_merging_pages);
}
