/**
 * Suite "scans": whole full scans in pages per second, the WebAssembly engine against the
 * plain-TypeScript reference, on the oracle's four workload shapes at the oracle's sizes (so the
 * kernel suite can put ksmd beside them): cloned guests, all-unique, zero-heavy, and prefix (all
 * pages share their first 4088 bytes: every tree comparison is a worst-case memcmp).
 *
 * Each run is a fresh Ksm: load the guests, then five passes, one batch each: 1 first sight
 * (checksums), 2 merge, 3-4 steady full visits, 5 the first smart_scan skip round. Runs alternate
 * between the engines; each figure is the median over the runs. On cloned guests the merge pass
 * is also set against the read-once floor: reading every guest page once, in the same memory.
 */
import { geomean, median, perSecond, ratio, round, type Context, type Row } from './lib.js';
import { PASS_NAMES, runWorkload, type Engine, type WorkloadRun } from './run.js';
import { clones, prefix, unique, zeros, type Workload } from './workloads.js';

/** The oracle's scenarios (oracle/gen.py at scale 1): 64 MiB, or 32 MiB for prefix. */
export const ORACLE_WORKLOADS = (): Workload[] => [clones(16384, 8), unique(16384, 4), zeros(16384, 4), prefix(8192, 4)];

/** Runs every engine once on small copies of the workloads, untimed: V8 compiles lazily. */
export async function warmUp(ctx: Context, engines: Engine[]): Promise<Record<string, WorkloadRun>> {
  const cold: Record<string, WorkloadRun> = {};
  for (const engine of engines) {
    for (const w of [clones(4096, 8), unique(2048, 4), zeros(2048, 4), prefix(2048, 4)]) {
      cold[`${engine}.${w.name}`] = await runWorkload(engine, w);
    }
  }
  ctx.progress('warm-up done');
  return cold;
}

export async function scans(ctx: Context): Promise<void> {
  const engines: Engine[] = ['wasm', 'reference'];
  const cold = await warmUp(ctx, engines);
  const reps = ctx.quick ? 1 : 3;
  const runs: Record<string, WorkloadRun[]> = {};
  for (let rep = 0; rep < reps; rep++) {
    for (const w of ORACLE_WORKLOADS()) {
      for (const engine of engines) {
        const run = await runWorkload(engine, w, { floor: w.name === 'clones' });
        (runs[`${engine}.${w.name}`] ??= []).push(run);
        ctx.progress(`${engine} ${w.name} rep ${rep + 1}: passes ${run.passes.map((p) => round(p.ms)).join(' ')} ms`);
      }
    }
  }

  const passRows: Row[] = [];
  const totalRows: Row[] = [];
  const totalRatios: number[] = [];
  for (const w of ORACLE_WORKLOADS()) {
    const wasm = runs[`wasm.${w.name}`];
    const ref = runs[`reference.${w.name}`];
    const pages = wasm[0].pages;
    const passMs = (rs: WorkloadRun[], p: number) => median(rs.map((r) => r.passes[p].ms));
    for (let p = 0; p < wasm[0].passes.length; p++) {
      const scanned = wasm[0].passes[p].scanned;
      const a = passMs(wasm, p), b = passMs(ref, p);
      ctx.figure(`scans.${w.name}.wasm.pass${p + 1}.ms`, a);
      ctx.figure(`scans.${w.name}.reference.pass${p + 1}.ms`, b);
      ctx.figure(`scans.${w.name}.pass${p + 1}.scanned`, scanned);
      passRows.push({
        workload: w.name, pass: `${p + 1} ${PASS_NAMES[p]}`, 'pages scanned': scanned,
        'wasm ms': round(a), 'reference ms': round(b),
        'wasm M pages/s': round(perSecond(scanned, a) / 1e6), 'reference M pages/s': round(perSecond(scanned, b) / 1e6),
        'wasm ÷ reference': ratio(b / a),
      });
    }
    const total = (rs: WorkloadRun[]) => median(rs.map((r) => r.passes.reduce((s, x) => s + x.ms, 0)));
    const settle = (rs: WorkloadRun[]) => median(rs.map((r) => r.settle.ms));
    const ta = total(wasm), tb = total(ref);
    totalRatios.push(tb / ta);
    const settledAt = wasm[0].settledAt;
    if (ref[0].settledAt !== settledAt) ctx.note(`${w.name}: the engines settle at different passes (wasm ${settledAt}, reference ${ref[0].settledAt})`);
    ctx.figure(`scans.${w.name}.pages`, pages);
    ctx.figure(`scans.${w.name}.settledAt`, settledAt);
    ctx.figure(`scans.${w.name}.wasm.settle.ms`, settle(wasm));
    ctx.figure(`scans.${w.name}.reference.settle.ms`, settle(ref));
    ctx.figure(`scans.${w.name}.wasm.total.ms`, ta);
    ctx.figure(`scans.${w.name}.reference.total.ms`, tb);
    const s = wasm[0].passes[wasm[0].passes.length - 1].stats;
    totalRows.push({
      workload: w.name, pages, 'MiB': pages / 256, 'settled after pass': settledAt,
      'shared/sharing/unshared': `${s.pagesShared}/${s.pagesSharing}/${s.pagesUnshared + s.pagesVolatile}`,
      'wasm to settle ms': round(settle(wasm)), 'reference to settle ms': round(settle(ref)),
      'wasm passes 1-5 ms': round(ta), 'reference passes 1-5 ms': round(tb), 'wasm ÷ reference': ratio(tb / ta),
      'load ms (wasm)': round(median(wasm.map((r) => r.load.ms))),
    });
  }
  ctx.figure('scans.wasmOverReference.min', Math.min(...totalRatios));
  ctx.figure('scans.wasmOverReference.geomean', geomean(totalRatios));
  ctx.table('Whole scans, pass by pass (ms of CPU on the main thread, median of runs; one batch per pass)', passRows);
  ctx.table('Whole scans, per workload: time to the settled merge state, and all five passes', totalRows);

  // The merge pass on cloned guests against the read-once floor of the same pages.
  const c = runs['wasm.clones'];
  const floorMs = median(c.map((r) => r.floor!.ms));
  const mergeMs = median(c.map((r) => r.passes[1].ms));
  const pages = c[0].pages;
  ctx.figure('scans.clones.floor.ms', floorMs);
  ctx.figure('scans.clones.mergeOverFloor', floorMs / mergeMs);
  ctx.table('Merge pass on cloned guests against the read-once floor (same pages, same memory)', [
    { what: 'read-once floor (wasm SIMD, every guest page once)', ms: round(floorMs), 'M pages/s': round(perSecond(pages, floorMs) / 1e6), 'of floor': '100%' },
    ...c[0].passes.map((_, p) => {
      const ms = median(c.map((r) => r.passes[p].ms));
      const scanned = c[0].passes[p].scanned;
      return { what: `pass ${p + 1} ${PASS_NAMES[p]} (${scanned} pages)`, ms: round(ms), 'M pages/s': round(perSecond(scanned, ms) / 1e6), 'of floor': `${round((100 * perSecond(scanned, ms)) / perSecond(pages, floorMs))}%` };
    }),
  ]);

  // What the first run in a fresh process costs (code not yet optimised), for the record.
  ctx.table('Cold code: the warm-up runs (first use in this process; smaller copies of the workloads)', Object.entries(cold).map(([key, r]) => ({
    run: key, pages: r.pages, 'pass ms': r.passes.map((p) => round(p.ms)).join(' / '),
  })));
  ctx.note('Pages per second = pages processed in the pass ÷ CPU time of the pass. Pass 5 processes fewer pages: smart_scan skips pages that failed to merge three times.');
}
