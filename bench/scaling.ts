/**
 * Suite "scaling": how the cost of whole scans grows with guest memory, 16 MiB to 2 GiB of cloned
 * guests (8 guests each), the engine against the reference (the reference up to 256 MiB: it keeps
 * every page as its own ArrayBuffer). One run per size (the scans suite has the medians at 64 MiB);
 * a size is left out when the time left in the 5-minute budget cannot hold it, and the table says so.
 */
import { perSecond, ratio, round, settleMemory, type Context, type Row } from './lib.js';
import { largestFitting, runWorkload, type Engine, type WorkloadRun } from './run.js';
import { clones } from './workloads.js';

export async function scaling(ctx: Context): Promise<void> {
  const wanted = ctx.quick ? [16, 64] : [16, 64, 256, 1024, 2048];
  const limitMiB = largestFitting(65536) / 256;
  const sizesMiB = [...new Set(wanted.map((m) => Math.min(m, limitMiB)))];
  if (sizesMiB.length < wanted.length || sizesMiB[sizesMiB.length - 1] !== wanted[wanted.length - 1]) {
    ctx.note(`${wanted[wanted.length - 1]} MiB does not fit in the engine's linear memory; the largest size run instead is ${limitMiB} MiB.`);
  }
  const referenceMaxMiB = ctx.quick ? 16 : 256;
  const rows: Row[] = [];
  const skipped: number[] = [];
  const base: Partial<Record<Engine, WorkloadRun>> = {};
  for (const mib of sizesMiB) {
    const pages = mib * 256;
    const engines: Engine[] = mib <= referenceMaxMiB ? ['wasm', 'reference'] : ['wasm'];
    if (!engines.every((e) => ctx.fits(`scaling.${e}`, pages))) { skipped.push(mib); continue; }
    const runs: Partial<Record<Engine, WorkloadRun>> = {};
    for (const engine of engines) {
      await settleMemory();
      const t0 = performance.now();
      const run = await runWorkload(engine, clones(pages), { floor: true });
      ctx.learn(`scaling.${engine}`, pages, performance.now() - t0);
      runs[engine] = run;
      base[engine] ??= run;
      const perPage = (r: WorkloadRun) => r.settle.ms / r.pages;
      const [first, merge, steady] = [0, 1, 2].map((p) => perSecond(run.passes[p].scanned, run.passes[p].ms));
      ctx.figure(`scaling.${mib}.${engine}.settle.ms`, run.settle.ms);
      ctx.figure(`scaling.${mib}.${engine}.merge.pagesPerSec`, merge);
      if (run.floor) ctx.figure(`scaling.${mib}.mergeOverFloor`, run.floor.ms / run.passes[1].ms);
      rows.push({
        'guest MiB': mib, pages, engine,
        'first M pages/s': round(first / 1e6), 'merge M pages/s': round(merge / 1e6), 'steady M pages/s': round(steady / 1e6),
        'to settle ms': round(run.settle.ms), 'settle ns/page': round(perPage(run) * 1e6),
        'growth vs 16 MiB (ns/page)': ratio(perPage(run) / perPage(base[engine]!)),
        'merge ÷ floor': run.floor ? `${round((100 * run.floor.ms) / run.passes[1].ms)}%` : '',
        'linear MiB per guest GiB': engine === 'wasm' ? round(run.liveAfterLoad.memoryBytes / (pages * 4096) * 1024) : '',
        'load s': round(run.load.ms / 1000),
      });
      ctx.progress(`scaling ${mib} MiB ${engine}: settle ${round(run.settle.ms)} ms`);
    }
    if (runs.reference) {
      const r = rows[rows.length - 1];
      r['wasm ÷ reference (settle)'] = ratio(runs.reference.settle.ms / runs.wasm!.settle.ms);
    }
  }
  const largest = rows.length ? Math.max(...rows.map((r) => r['guest MiB'] as number)) : 0;
  ctx.figure('scaling.largestMiB', largest);
  ctx.table('Scaling: cloned guests from 16 MiB up (main-thread time; one run per size; first pass, merge pass, steady pass)', rows);
  if (skipped.length) ctx.note(`Left out for the time budget: ${skipped.join(', ')} MiB (largest run: ${largest} MiB).`);
  ctx.note('The merge pass is measured against the read-once floor of the same guest pages, as in the scans suite.');
}
