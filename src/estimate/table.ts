/**
 * The human-readable output: the counters after every full scan, then what they mean.
 */
import { liveNotes, spaceRows } from './proc/table.js';
import type { EstimateRun } from './run.js';
import { inputPages } from './source.js';
import { bytes, duration } from '../cli/format.js';
import { summarize } from './summary.js';
import { sleepTicks } from './timing.js';

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
  ['ksmd cpu', (s) => duration(s.cpuMs)],
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
  const pages = inputPages(run.spaces);
  return [
    `ksm-wasm estimate: ${run.spaces.length} address space${run.spaces.length === 1 ? '' : 's'}, ${pages} pages (${bytes(pages * 4096)})`,
    `knobs: pages_to_scan=${k.advisorMode === 'scan-time' ? 'advisor' : k.pagesToScan} sleep_millisecs=${k.sleepMillisecs} max_page_sharing=${k.maxPageSharing} ` +
      `use_zero_pages=${k.useZeroPages} smart_scan=${k.smartScan} merge_across_nodes=${k.mergeAcrossNodes} advisor_mode=${k.advisorMode}`,
  ].join('\n');
}

function footer(run: EstimateRun): string[] {
  const s = summarize(run);
  const { profile } = run;
  const tick = 1000 / profile.hz;
  const sleep = s.paces[0].sleepMillisecs;
  const ticks = sleep === 0 ? 0 : sleepTicks(sleep, profile.hz) + profile.extraTicks;
  // Not settled within --max-scans: the times run to the last change, and the last scan is not a steady one.
  const [settled, toSettle, steady] = run.converged ? ['settled', 'to settle', 'steady'] : ['last change', 'to last change', 'last scan'];
  return [
    run.converged
      ? `Merge state settled after full scan ${s.settledAt} (unchanged for the ${run.scans.length - s.settledAt} scans after it).`
      : `Not converged after ${run.scans.length} full scans (--max-scans); last change after scan ${s.settledAt}.`,
    `Memory saved: ${bytes(s.savedBytes)} of ${bytes(s.pages * 4096)} (${pct(s.savedBytes / (s.pages * 4096))}): pages_sharing ${s.last.pagesSharing} + ksm_zero_pages ${s.last.ksmZeroPages}` +
      `${s.last.splitZeroPages ? ` + ${s.last.splitZeroPages} zero subpages of split huge pages` : ''} pages; ` +
      `general_profit ${bytes(s.last.generalProfit)} after the rmap items' 64 bytes per page.`,
    '',
    `Time for ksmd to get there, by its wall clock from run=1 (a ${sleep} ms sleep lasts ${ticks} ticks of ${tick} ms, ${ticks * tick} ms; plus its CPU):`,
    ...s.paces.map((p) => `  ${p.label.padEnd(32)} ${`${p.pagesToScan} pages / ${p.sleepMillisecs} ms`.padEnd(22)} ${settled} ${duration(p.settleMs).padStart(9)}   ` +
      `last scan ${duration(p.lastMs).padStart(9)}   ksmd CPU ${toSettle} ${duration(p.settleCpuMs).padStart(9)}, ${steady} ${pct(p.steadyCpuShare)} of a core`),
    `ksmd's CPU from a cost per batch, page seen, merged page visited, stable-tree hit, other page, two-page merge and tree level (${profileName(run)});`,
    '  checked against the free-running kernel (docs/clock.md): time within 10 %, CPU within 25 %, on the host and session the profile was measured in.',
    (run.shards ?? 1) > 1
      ? `This run: ${duration(s.last.wallMs)} of scanning in ${run.shards} content shards of the ${engineWords(run)} side by side (the slowest shard's time, scan by scan; starting their engines took ${duration(run.startupMs ?? 0)}, not counted).`
      : `This run: ${duration(s.last.wallMs)} of scanning in the ${engineWords(run)}.`,
  ];
}

function profileName(run: EstimateRun): string {
  const m = run.profile.measured;
  const host = typeof m.host === 'string' ? m.host : 'the reference host';
  return typeof m.file === 'string' ? `profile ${m.file}` : `profile measured on ${host}${typeof m.date === 'string' ? ` on ${m.date.slice(0, 10)}` : ''}`;
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;

/** Which engine ran, in words (--mode; docs/fingerprints.md). */
const engineWords = (run: EstimateRun): string =>
  run.mode === 'fingerprints' ? 'fingerprint engine (a 128-bit fingerprint per page)' : 'page engine (whole pages compared)';
