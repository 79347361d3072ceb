/**
 * The estimate on the dropped images' fingerprints, in the page: the fingerprint engine takes the
 * records (AddressSpace.writeFingerprints) and runs the kernel's scan under the kernel's default
 * knobs until the merge state settles, exactly as `ksm-wasm estimate --mode fingerprints` does;
 * the page shows the CLI report's charts and table.
 */
import { ESTIMATE_KNOB_DEFAULTS } from '../../src/estimate/knobs.js';
import { reportCharts } from '../../src/estimate/report.js';
import { runEstimate, type EstimateRun } from '../../src/estimate/run.js';
import type { ImageSource } from '../../src/estimate/source.js';
import { summarize } from '../../src/estimate/summary.js';
import { formatTable } from '../../src/estimate/table.js';
import { KsmError } from '../../src/errors.js';
import type { FingerprintedImage } from './fingerprint-pool.js';

const MAX_SCANS = 50;
const STABLE_SCANS = 3;

/** A dropped image as an estimate's source: its records only (the pages were never kept). */
function recordSource(image: FingerprintedImage): ImageSource {
  return {
    name: image.name,
    pages: image.pages,
    read: () => { throw new KsmError('EINVAL', `${image.name}: only its fingerprints were kept (the fingerprint engine reads them)`); },
    readRecords: (sink) => sink(image.records, 0),
  };
}

export async function estimateImages(images: readonly FingerprintedImage[]): Promise<EstimateRun> {
  return runEstimate(images.map(recordSource), { knobs: ESTIMATE_KNOB_DEFAULTS, maxScans: MAX_SCANS, stableScans: STABLE_SCANS, engine: 'fingerprints' });
}

/** The run on the page: the summary line (with data-* figures for tests), the report's charts, the table. */
export function showEstimate(run: EstimateRun, box: HTMLElement): void {
  const s = summarize(run);
  const last = run.scans[run.scans.length - 1];
  box.dataset.pagesShared = String(last?.pagesShared ?? 0);
  box.dataset.pagesSharing = String(last?.pagesSharing ?? 0);
  box.dataset.fullScans = String(run.scans.length);
  const line = document.createElement('p');
  line.textContent = run.converged
    ? `ksmd (the kernel's default knobs) settles after full scan ${s.settledAt}: pages_shared ${last.pagesShared}, pages_sharing ${last.pagesSharing}.`
    : `not settled after ${run.scans.length} full scans.`;
  const charts = document.createElement('div');
  charts.className = 'report-charts';
  charts.innerHTML = reportCharts(run).join('\n'); // inline SVG made by the library, names escaped
  const table = document.createElement('pre');
  table.textContent = formatTable(run);
  box.replaceChildren(line, charts, table);
}
