/**
 * `--report FILE.html`: one self-contained page (inline CSS and SVG, no script, no external asset)
 * with the counters and the memory saved against full scans and against simulated time.
 */
import type { EstimateRun } from './run.js';
import { esc, lineChart } from './svg.js';
import { bytes, duration } from '../cli/format.js';
import { summarize } from './summary.js';
import { formatTable } from './table.js';
import { PAGE_SIZE } from './source.js';
import { projectScanTimes } from './timing.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

export function htmlReport(run: EstimateRun): string {
  const s = summarize(run);
  const [counters, memory, overTime] = reportCharts(run);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ksm-wasm estimate</title>
<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}
figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.3em}td,th{padding:2px 8px;text-align:right}table{border-collapse:collapse}
td.name,th:first-child{text-align:left}td.name{white-space:nowrap}th{vertical-align:bottom}</style></head>
<body><h1>ksm-wasm estimate</h1>
<p>${esc(`${run.spaces.length} address spaces, ${s.pages} pages (${bytes(s.pages * PAGE_SIZE)}). Memory saved: ${bytes(s.savedBytes)}; ` +
    `${run.converged ? `merge state settled after full scan ${s.settledAt}` : `not converged after ${run.scans.length} full scans`}.`)}</p>
${spacesTable(run)}
${counters}
${memory}
${overTime}
<h2>Figures</h2>
<pre>${esc(formatTable(run))}</pre>
</body></html>
`;
}

/**
 * The report's three charts (inline SVG): the counters and the memory saved after each full scan,
 * and the memory saved against simulated time at several paces. The demo page shows them too.
 */
export function reportCharts(run: EstimateRun): [string, string, string] {
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
  const works = scans.map((x) => x.work);
  const overTime = lineChart({
    title: 'Memory saved against simulated time, at several paces', xLabel: 'simulated time', yLabel: 'bytes saved', formatX: duration, formatY: bytes,
    series: s.paces.map((p, i) => {
      const times = i === 0 ? scans.map((x) => x.simulatedMs) : projectScanTimes(works, p.pagesToScan, p.sleepMillisecs, run.profile);
      return { name: i === 0 && run.knobs.advisorMode === 'scan-time' ? `advisor / ${p.sleepMillisecs} ms` : `${p.pagesToScan} / ${p.sleepMillisecs} ms`, color: COLORS[i % COLORS.length], points: [[0, 0], ...scans.map((x, j): [number, number] => [times[j], saved(x)])] };
    }),
  });
  return [counters, memory, overTime];
}

/** Each space's ksm_stat after the last scan, byte figures as the terminal table shows them; names without their common directory. */
function spacesTable(run: EstimateRun): string {
  const last = run.spacesPerScan[run.spacesPerScan.length - 1] ?? [];
  const { dir, short } = withoutCommonDirectory(run.spaces.map((s) => s.name));
  const rows = last.map((sp, i) => `<tr><td class="name"><span title="${esc(sp.name)}">${esc(middleEllipsis(short[i], NAME_CHARS))}</span></td><td>${run.spaces[i].pages}</td>` +
    `<td>${sp.ksmRmapItems}</td><td>${sp.ksmMergingPages}</td><td>${sp.ksmZeroPages}</td><td>${esc(bytes(sp.ksmProcessProfit))}</td></tr>`);
  // The ksm_stat names may break after an underscore, so that the columns stay narrow.
  const headers = ['space', 'pages', 'ksm_rmap_items', 'ksm_merging_pages', 'ksm_zero_pages', 'ksm_process_profit'].map((h) => `<th>${h.replace(/_/g, '_<wbr>')}</th>`);
  return `${dir ? `<p>Spaces in ${esc(dir)}</p>\n` : ''}<table><tr>${headers.join('')}</tr>
${rows.join('\n')}
</table>`;
}

/** Most characters of a space name in the table (the whole name is its title). */
const NAME_CHARS = 40;

/** A name cut in its middle to at most `max` characters: both ends tell names apart (a directory, a guest number). */
export function middleEllipsis(name: string, max: number): string {
  if (name.length <= max) return name;
  const head = Math.floor((max - 1) / 3);
  return `${name.slice(0, head)}…${name.slice(name.length - (max - 1 - head))}`;
}

/** ["/a/b/x.img", "/a/b/y.img"] → dir "/a/b/", short ["x.img", "y.img"]; names with no common directory stay whole. */
export function withoutCommonDirectory(names: readonly string[]): { dir: string; short: string[] } {
  const dirs = names.map((n) => n.split('/').slice(0, -1));
  let common = 0;
  while (dirs.every((d) => common < d.length && d[common] === dirs[0][common])) common++;
  if (common === 0) return { dir: '', short: [...names] };
  const dir = `${dirs[0].slice(0, common).join('/')}/`;
  return { dir, short: names.map((n) => n.slice(dir.length)) };
}
