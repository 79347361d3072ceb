/**
 * Suite "fleet" (issue 11): the 325 MiB, 7-guest fleet, far larger than any cache, pass by pass
 * against the honest read-once floor of the same pages, and against this machine's ksmd on the
 * same images.
 *
 * Each run is a fresh Ksm: load the fleet, time the floor (every guest page read once by the floor
 * module's SIMD loop, in the engine's memory: the median of three reads), the native cross-check
 * (Buffer.compare of each contiguous run of those pages with itself) and the in-cache floor (the
 * same loop over 32 pages, 128 KiB, again and again), then five passes, one batch each. Each ratio
 * is taken within one run; the tables give every run and the spread (min / median / max).
 *
 * The merge pass's own reads: every page that merged, and the KSM page it merged into (for the page
 * whose frame became the KSM page, its tree partner's pair stands for the compare), listed pair by
 * pair in scan order and read once by the floor's loop after the passes. A merge must compare both
 * pages whole, so this is what the merge pass cannot go below; two pages far apart per compare
 * read slower than one sequential stream, which is why it is slower than the floor.
 *
 * The kernel (when KSM is free): one run of ksmd over the same images in step mode (one batch per
 * full pass, pages_to_scan above the page count), its CPU time per pass from schedstat.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ksm } from '../src/index.js';
import type { WasmBackend } from '../src/core.js';
import { SCRATCH_LOCATION, SCRATCH_SIZE } from '../src/generated/core-abi.js';
import { KernelUnavailable, runKernel } from '../tests/conformance/harness.js';
import { floorFor, readAll } from './floor.js';
import { KNOBS, kernelBlocked } from './kernel.js';
import { median, round, settleMemory, time, type Context, type Row } from './lib.js';
import { PASS_NAMES, guestAddresses, runWorkload, timeReads, type WorkloadRun } from './run.js';
import { fleet, guestImage, PAGE, totalPages } from './workloads.js';

const PASSES = 5;

export interface Spread { min: number; median: number; max: number }
export const spread = (xs: readonly number[]): Spread => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });
export const showSpread = (s: Spread, f: (x: number) => string = (x) => String(round(x))): string => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

/** Records a spread as three figures: NAME.min, NAME.median, NAME.max. */
function figureSpread(ctx: Context, name: string, xs: readonly number[]): Spread {
  const s = spread(xs);
  ctx.figure(`${name}.min`, s.min);
  ctx.figure(`${name}.median`, s.median);
  ctx.figure(`${name}.max`, s.max);
  return s;
}

interface Reads { native: number; hotNsPerPage: number; checksumNsPerPage: number; genericNsPerPage: number }

/** The native cross-check and the in-cache floor, on a loaded fleet. */
function reads(ksm: Ksm): Reads {
  const core = (ksm.backend as WasmBackend).core;
  const list = guestAddresses(ksm);
  // Contiguous runs of the same pages: Buffer.compare of each with itself reads every byte (twice,
  // the second time from L1), in C++.
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < list.length;) {
    let j = i + 1;
    while (j < list.length && list[j] === list[j - 1] + PAGE) j++;
    runs.push([list[i], (j - i) * PAGE]);
    i = j;
  }
  const native = () => {
    let acc = 0;
    for (const [at, n] of runs) acc += Buffer.compare(new Uint8Array(core.memory.buffer, at, n), new Uint8Array(core.memory.buffer, at, n));
    return acc;
  };
  native();
  const nativeMs = median([0, 1, 2].map(() => time(native).ms));
  // In cache: 32 pages (128 KiB) listed again and again, as many page reads as the fleet has.
  const floor = floorFor(core.memory);
  const hot = new Uint32Array(SCRATCH_SIZE / 4).map((_, i) => list[i % 32]);
  const rounds = Math.ceil(list.length / hot.length);
  readAll(floor, core.memory, hot, SCRATCH_LOCATION, hot.length);
  const hotMs = median([0, 1, 2].map(() => time(() => { for (let r = 0; r < rounds; r++) readAll(floor, core.memory, hot, SCRATCH_LOCATION, hot.length); }).ms));
  // The page checksum alone, in cache (the same 32 pages): what pass 1 computes per page, without
  // waiting for memory; and the generic xxh64 loop it replaced (issue 11), for the same pages.
  const n = list.length;
  const hash = (fn: (a: number) => unknown) => median([0, 1, 2].map(() => time(() => { for (let i = 0; i < n; i++) fn(list[i & 31]); }).ms)) * 1e6 / n;
  hash((a) => core.checksumAt(a));
  hash((a) => core.xxh64At(a, PAGE));
  return {
    native: nativeMs, hotNsPerPage: (hotMs * 1e6) / (rounds * hot.length),
    checksumNsPerPage: hash((a) => core.checksumAt(a)), genericNsPerPage: hash((a) => core.xxh64At(a, PAGE)),
  };
}

/** Each page's frame address after loading and the KSM frame after the passes: the pairs the merges compared. */
function mergedPairs(before: Uint32Array, after: Uint32Array): Uint32Array {
  const out: number[] = [];
  for (let i = 0; i < before.length; i++) if (after[i] !== before[i]) out.push(before[i], after[i]);
  return new Uint32Array(out);
}

interface KernelFleet { passCpuMs: number[]; settledAt: number; settleCpuMs: number }

/** ksmd on the fleet's images, or the reason it could not run. */
async function kernelOnFleet(ctx: Context): Promise<KernelFleet | string> {
  const blocked = await kernelBlocked(ctx, ctx.options.kernelWait);
  if (blocked) return blocked;
  const w = fleet();
  const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-bench-fleet-'));
  try {
    const images = Array.from({ length: w.guests }, (_, g) => {
      const path = join(dir, `fleet-g${g}.img`);
      writeFileSync(path, guestImage(w, g));
      return path;
    });
    const k = await runKernel(images, { ...KNOBS, pages_to_scan: totalPages(w) + 1 }, { maxScans: PASSES, stableScans: 3, timeoutMs: 300_000 });
    const passCpuMs = k.scans.map((s, i) => (s.cpuNs - (i ? k.scans[i - 1].cpuNs : 0)) / 1e6);
    return { passCpuMs, settledAt: k.settledAt, settleCpuMs: k.scans[k.settledAt - 1].cpuNs / 1e6 };
  } catch (error) {
    if (error instanceof KernelUnavailable) return error.message;
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function fleetSuite(ctx: Context): Promise<void> {
  const w = fleet();
  await runWorkload('wasm', fleet(8192)); // V8 compiles lazily: one small fleet first, untimed
  const reps = ctx.quick ? 3 : 5;
  const runs: WorkloadRun[] = [];
  const extra: Reads[] = [];
  const mergeReads: number[] = [];
  let mergePages = 0;
  for (let r = 0; r < reps; r++) {
    await settleMemory();
    let before: Uint32Array = new Uint32Array(0);
    const afterLoad = (ksm: Ksm) => { extra.push(reads(ksm)); before = guestAddresses(ksm); };
    const after = (ksm: Ksm) => {
      const pairs = mergedPairs(before, guestAddresses(ksm));
      mergePages = pairs.length;
      mergeReads.push(timeReads(ksm, pairs).ms);
    };
    const run = await runWorkload('wasm', w, { floor: true, passes: PASSES, afterLoad, after });
    runs.push(run);
    ctx.progress(`fleet run ${r + 1}: floor ${round(run.floor!.ms)} ms, passes ${run.passes.map((p) => round(p.ms)).join(' ')} ms`);
  }
  const pages = runs[0].pages;
  // The floor of a run is the faster of its two reads of the same pages: the SIMD loop's, or the
  // native read's when that was faster (a floor nothing measured beats).
  const simdFloorMs = runs.map((r) => r.floor!.ms);
  const floorMs = runs.map((r, i) => Math.min(r.floor!.ms, extra[i].native));
  const pass = (p: number) => runs.map((r) => r.passes[p].ms);
  const steadyMs = runs.map((r) => (r.passes[2].ms + r.passes[3].ms) / 2);
  const settleMs = runs.map((r) => r.settle.ms);
  const firstOverFloor = runs.map((r, i) => floorMs[i] / r.passes[0].ms);
  const mergeOverFloor = runs.map((r, i) => floorMs[i] / r.passes[1].ms);
  const nativeOverFloor = runs.map((r, i) => extra[i].native / r.floor!.ms);
  const mergeOverReads = runs.map((r, i) => mergeReads[i] / r.passes[1].ms);
  ctx.figure('fleet.pages', pages);
  ctx.figure('fleet.settledAt', runs[0].settledAt);
  const floorS = figureSpread(ctx, 'fleet.floor.ms', floorMs);
  figureSpread(ctx, 'fleet.floor.simd.ms', simdFloorMs);
  figureSpread(ctx, 'fleet.floor.inCache.nsPerPage', extra.map((e) => e.hotNsPerPage));
  figureSpread(ctx, 'fleet.native.ms', extra.map((e) => e.native));
  figureSpread(ctx, 'fleet.nativeOverFloor', nativeOverFloor);
  for (let p = 0; p < PASSES; p++) figureSpread(ctx, `fleet.pass${p + 1}.ms`, pass(p));
  figureSpread(ctx, 'fleet.steady.ms', steadyMs);
  figureSpread(ctx, 'fleet.settle.ms', settleMs);
  figureSpread(ctx, 'fleet.firstOverFloor', firstOverFloor);
  figureSpread(ctx, 'fleet.mergeOverFloor', mergeOverFloor);
  figureSpread(ctx, 'fleet.mergeReads.ms', mergeReads);
  figureSpread(ctx, 'fleet.mergeOverReads', mergeOverReads);

  const pct = (x: number) => `${round(100 * x)} %`;
  ctx.table(`The fleet (${w.guests} guests, ${round(pages * PAGE / 2 ** 20)} MiB), run by run (ms, min(CPU, wall) of the main thread; ratios within each run)`, runs.map((r, i) => ({
    run: i + 1, 'SIMD read ms': round(r.floor!.ms), 'native read ms': round(extra[i].native), 'floor ms': round(floorMs[i]),
    ...Object.fromEntries(r.passes.map((p, k) => [`pass ${k + 1} ms`, round(p.ms)])),
    'pass 1 of floor': pct(firstOverFloor[i]), 'merge of floor': pct(mergeOverFloor[i]),
    'settled after': r.settledAt, 'to settle ms': round(r.settle.ms),
  })));
  const s = (xs: number[], f?: (x: number) => string) => showSpread(spread(xs), f);
  const rows: Row[] = [
    { what: 'every guest page read once, SIMD, 4 accumulators (out of cache)', 'median (min–max)': s(simdFloorMs), 'ns/page': round((median(simdFloorMs) * 1e6) / pages) },
    { what: 'the read-once floor: the faster of that and the native read, run by run', 'median (min–max)': s(floorMs), 'ns/page': round((floorS.median * 1e6) / pages) },
    { what: 'read-once floor in cache (32 pages, again and again)', 'median (min–max)': s(extra.map((e) => e.hotNsPerPage)), 'ns/page': round(median(extra.map((e) => e.hotNsPerPage))) },
    { what: 'page checksum alone, in cache (32 pages, again and again; one call per page)', 'median (min–max)': s(extra.map((e) => e.checksumNsPerPage)), 'ns/page': round(median(extra.map((e) => e.checksumNsPerPage))) },
    { what: 'the generic xxh64 loop the page checksum was before issue 11, same pages', 'median (min–max)': s(extra.map((e) => e.genericNsPerPage)), 'ns/page': round(median(extra.map((e) => e.genericNsPerPage))) },
    { what: 'native cross-check: Buffer.compare of the same pages with themselves', 'median (min–max)': s(extra.map((e) => e.native)), 'ns/page': round((median(extra.map((e) => e.native)) * 1e6) / pages) },
    ...runs[0].passes.map((_, p) => ({ what: `pass ${p + 1} ${PASS_NAMES[p]} (${runs[0].passes[p].scanned} pages)`, 'median (min–max)': s(pass(p)), 'ns/page': round((median(pass(p)) * 1e6) / runs[0].passes[p].scanned) })),
    { what: 'pass 1 ÷ floor (floor ms ÷ pass ms, same run)', 'median (min–max)': s(firstOverFloor, pct), 'ns/page': '' },
    { what: 'merge pass ÷ floor', 'median (min–max)': s(mergeOverFloor, pct), 'ns/page': '' },
    { what: 'native read ÷ SIMD read (< 100 %: native reads faster; the floor is then the native read)', 'median (min–max)': s(nativeOverFloor, pct), 'ns/page': '' },
    { what: `the merge pass's own reads: each merged page and its KSM page, pair by pair (${mergePages} page reads)`, 'median (min–max)': s(mergeReads), 'ns/page': round((median(mergeReads) * 1e6) / mergePages) },
    { what: 'the floor ÷ the merge pass\'s own reads: the most the merge pass can reach of the floor', 'median (min–max)': s(runs.map((_, i) => floorMs[i] / mergeReads[i]), pct), 'ns/page': '' },
    { what: 'merge pass ÷ its own reads', 'median (min–max)': s(mergeOverReads, pct), 'ns/page': '' },
  ];
  ctx.table('The fleet: spread of the runs (ms, except the in-cache rows: ns per page)', rows);
  figureSpread(ctx, 'fleet.checksum.inCache.nsPerPage', extra.map((e) => e.checksumNsPerPage));
  ctx.note('Pass 1 hashes every page: it cannot take less than the checksum\'s own compute (in-cache row) nor the floor; it reaches the floor only where the two overlap.');
  if (Math.max(...mergeOverReads) > 1.1) ctx.note(`READS NOT A FLOOR: the merge pass took less than reading its compared pages once in some run (${s(mergeOverReads, pct)})`);
  const nativeFaster = nativeOverFloor.filter((x) => x < 1).length;
  if (nativeFaster > 0) ctx.note(`The native read was faster than the SIMD loop in ${nativeFaster} of ${runs.length} runs (${s(nativeOverFloor, pct)}): in those the floor is the native read.`);

  const k = await kernelOnFleet(ctx);
  if (typeof k === 'string') {
    ctx.figure('fleet.kernel.skipped', 1);
    ctx.note(`KERNEL SKIPPED for the fleet: ${k}`);
    return;
  }
  const kSteady = (k.passCpuMs[2] + k.passCpuMs[3]) / 2;
  ctx.figure('fleet.kernel.settle.cpuMs', k.settleCpuMs);
  ctx.figure('fleet.kernel.settledAt', k.settledAt);
  k.passCpuMs.forEach((ms, p) => ctx.figure(`fleet.kernel.pass${p + 1}.cpuMs`, ms));
  ctx.figure('fleet.kernel.steady.cpuMs', kSteady);
  figureSpread(ctx, 'fleet.steadyUnderKernel', steadyMs.map((ms) => kSteady / ms));
  figureSpread(ctx, 'fleet.settleUnderKernel', settleMs.map((ms) => k.settleCpuMs / ms));
  ctx.table('The fleet: ksmd (one run, CPU from schedstat) against the engine\'s runs', [
    ...k.passCpuMs.map((ms, p) => ({ what: `pass ${p + 1} ${PASS_NAMES[p]}`, 'ksmd CPU ms': round(ms), 'engine ms, median (min–max)': s(pass(p)), 'ksmd ÷ engine': s(pass(p).map((e) => ms / e), (x) => `${round(x)}×`) })),
    { what: `to the settled state (ksmd after pass ${k.settledAt}, engine after ${runs[0].settledAt})`, 'ksmd CPU ms': round(k.settleCpuMs), 'engine ms, median (min–max)': s(settleMs), 'ksmd ÷ engine': s(settleMs.map((e) => k.settleCpuMs / e), (x) => `${round(x)}×`) },
  ]);
}
