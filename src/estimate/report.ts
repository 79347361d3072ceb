/**
 * `--report FILE.html`: one self-contained page (inline CSS and SVG, no script, no external asset)
 * with the counters and the memory saved against full scans and against simulated time.
 */
import type { EstimateRun } from './run.js';
import { esc, lineChart } from './svg.js';
import { bytes, duration, summarize } from './summary.js';
import { formatTable } from './table.js';
import { PAGE_SIZE } from './source.js';
import { projectScanTimes } from './timing.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

export function htmlReport(run: EstimateRun): string {
  const s = summarize(run);
  const scans = run.scans;
  const byScan = (f: (x: EstimateRun['scans'][number]) => number) => scans.map((x): [number, number] => [x.fullScans, f(x)]);
  const saved = (x: EstimateRun['scans'][number]) => (x.pagesSharing + x.ksmZeroPages) * PAGE_SIZE;
  const counters = lineChart({
    title: 'Counters after each full scan', xLabel: 'full scans', yLabel: 'pages',
    series: [
      { name: 'pages_shared', color: COLORS[0], points: byScan((x) => x.pagesShared) },
      { name: 'pages_sharing', color: COLORS[1], points: byScan((x) => x.pagesSharing) },
      { name: 'pages_unshared', color: COLORS[2], points: byScan((x) => x.pagesUnshared) },
      { name: 'pages_volatile', color: COLORS[3], points: byScan((x) => x.pagesVolatile) },
      { name: 'ksm_zero_pages', color: COLORS[4], points: byScan((x) => x.ksmZeroPages) },
    ],
  });
  const memory = lineChart({
    title: 'Memory saved after each full scan', xLabel: 'full scans', yLabel: 'bytes', formatY: bytes,
    series: [
      { name: 'saved (sharing + zero)', color: COLORS[0], points: byScan(saved) },
      { name: 'general_profit', color: COLORS[1], points: byScan((x) => x.generalProfit) },
    ],
  });
  const processed = scans.map((x) => x.work.processed);
  const overTime = lineChart({
    title: 'Memory saved against simulated time, at several paces', xLabel: 'simulated time', yLabel: 'bytes saved', formatX: duration, formatY: bytes,
    series: s.paces.map((p, i) => {
      const times = i === 0 ? scans.map((x) => x.simulatedMs) : projectScanTimes(processed, p.pagesToScan, p.sleepMillisecs);
      return { name: i === 0 && run.knobs.advisorMode === 'scan-time' ? `advisor / ${p.sleepMillisecs} ms` : `${p.pagesToScan} / ${p.sleepMillisecs} ms`, color: COLORS[i % COLORS.length], points: [[0, 0], ...scans.map((x, j): [number, number] => [times[j], saved(x)])] };
    }),
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ksm-wasm estimate</title>
<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}
figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}td,th{padding:2px 8px;text-align:right}table{border-collapse:collapse}</style></head>
<body><h1>ksm-wasm estimate</h1>
<p>${esc(`${run.spaces.length} address spaces, ${s.pages} pages (${bytes(s.pages * PAGE_SIZE)}). Memory saved: ${bytes(s.savedBytes)}; ` +
    `${run.converged ? `merge state settled after full scan ${s.settledAt}` : `not converged after ${scans.length} full scans`}.`)}</p>
<table><tr><th>space</th><th>pages</th><th>ksm_rmap_items</th><th>ksm_merging_pages</th><th>ksm_zero_pages</th><th>ksm_process_profit</th></tr>
${(run.spacesPerScan[run.spacesPerScan.length - 1] ?? []).map((sp, i) => `<tr><td>${esc(sp.name)}</td><td>${run.spaces[i].pages}</td><td>${sp.ksmRmapItems}</td><td>${sp.ksmMergingPages}</td><td>${sp.ksmZeroPages}</td><td>${sp.ksmProcessProfit}</td></tr>`).join('\n')}
</table>
${counters}
${memory}
${overTime}
<h2>Figures</h2>
<pre>${esc(formatTable(run))}</pre>
</body></html>
`;
}
