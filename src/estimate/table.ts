/**
 * The human-readable output: the counters after every full scan, then what they mean.
 */
import { liveNotes, spaceRows } from './proc/table.js';
import type { EstimateRun } from './run.js';
import { bytes, duration } from '../cli/format.js';
import { summarize } from './summary.js';
import { HZ, sleepMs } from './timing.js';

const COLUMNS: Array<[string, (s: EstimateRun['scans'][number]) => string]> = [
  ['scan', (s) => String(s.fullScans)],
  ['shared', (s) => String(s.pagesShared)],
  ['sharing', (s) => String(s.pagesSharing)],
  ['unshared', (s) => String(s.pagesUnshared)],
  ['volatile', (s) => String(s.pagesVolatile)],
  ['zero', (s) => String(s.ksmZeroPages)],
  ['chains', (s) => String(s.stableNodeChains)],
  ['dups', (s) => String(s.stableNodeDups)],
  ['scanned', (s) => String(s.pagesScanned)],
  ['skipped', (s) => String(s.pagesSkipped)],
  ['profit', (s) => bytes(s.generalProfit)],
  ['sim time', (s) => duration(s.simulatedMs)],
];

export function formatTable(run: EstimateRun): string {
  const rows = [COLUMNS.map(([h]) => h), ...run.scans.map((s) => COLUMNS.map(([, f]) => f(s)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  return [header(run), '', line(rows[0]), ...rows.slice(1).map(line), '', ...spaces(run), '', ...footer(run)].join('\n') + '\n';
}

/** Each space's /proc/PID/ksm_stat after the last scan. */
function spaces(run: EstimateRun): string[] {
  const last = run.spacesPerScan[run.spacesPerScan.length - 1] ?? [];
  const rows = spaceRows(last.map((stat, i) => ({ ...run.spaces[i], stat })), bytes);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return [...rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')), ...liveNotes(run.spaces.map((s) => s.live))];
}

function header(run: EstimateRun): string {
  const k = run.knobs;
  const pages = run.spaces.reduce((n, s) => n + s.pages, 0);
  return [
    `ksm-wasm estimate: ${run.spaces.length} address space${run.spaces.length === 1 ? '' : 's'}, ${pages} pages (${bytes(pages * 4096)})`,
    `knobs: pages_to_scan=${k.advisorMode === 'scan-time' ? 'advisor' : k.pagesToScan} sleep_millisecs=${k.sleepMillisecs} max_page_sharing=${k.maxPageSharing} ` +
      `use_zero_pages=${k.useZeroPages} smart_scan=${k.smartScan} merge_across_nodes=${k.mergeAcrossNodes} advisor_mode=${k.advisorMode}`,
  ].join('\n');
}

function footer(run: EstimateRun): string[] {
  const s = summarize(run);
  const cpu = s.cpuToSettleMs;
  const out = [
    run.converged
      ? `Merge state settled after full scan ${s.settledAt} (unchanged for the ${run.scans.length - s.settledAt} scans after it).`
      : `Not converged after ${run.scans.length} full scans (--max-scans); last change after scan ${s.settledAt}.`,
    `Memory saved: ${bytes(s.savedBytes)} of ${bytes(s.pages * 4096)} (${pct(s.savedBytes / (s.pages * 4096))}): pages_sharing ${s.last.pagesSharing} + ksm_zero_pages ${s.last.ksmZeroPages}` +
      `${s.last.splitZeroPages ? ` + ${s.last.splitZeroPages} zero subpages of split huge pages` : ''} pages; ` +
      `general_profit ${bytes(s.last.generalProfit)} after the rmap items' 64 bytes per page.`,
    '',
    'Time for ksmd to get there (simulated: batches x sleep, sleep rounded up to 4 ms jiffies):',
    ...s.paces.map((p) => `  ${p.label.padEnd(32)} ${`${p.pagesToScan} pages / ${p.sleepMillisecs} ms`.padEnd(22)} settled ${duration(p.settleMs).padStart(9)}   ` +
      `last scan ${duration(p.lastMs).padStart(9)}   steady ksmd CPU ~${pct(p.steadyCpuShare)} of a core`),
    ...tickNote(s.paces[0].sleepMillisecs, s.paces[0].settleMs, s.paces[0].lastMs),
    `ksmd CPU to settle: ~${duration(cpu[1])} (${duration(cpu[0])}-${duration(cpu[2])}), estimated from per-page and per-batch costs`,
    '  measured on the real ksmd (kernel 6.18, x86_64; see src/estimate/cpu.ts): rough (within about 3x).',
    `This run: ${duration(s.last.wallMs)} of scanning in the engine.`,
  ];
  return out;
}

/**
 * The real ksmd sleeps about one jiffy more than asked: its timer wheel rounds a timeout up by one
 * tick so it never fires early (the kernel oracle measured 24.0 ms per batch at sleep_millisecs=20
 * on 6.18, over 820 batches). Said beside the simulated figures, which follow the model's rule.
 */
function tickNote(sleepMillisecs: number, settleMs: number, lastMs: number): string[] {
  const sleep = sleepMs(sleepMillisecs);
  if (sleep === 0) return [];
  const factor = (sleep + 1000 / HZ) / sleep;
  return [`  On the real kernel each sleep lasts about one jiffy longer (its timers round up; measured 24 ms per 20 ms batch),`,
    `  so expect about ${Math.round((factor - 1) * 100)}% more with these knobs: settled ~${duration(settleMs * factor)}, last scan ~${duration(lastMs * factor)}.`];
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;
