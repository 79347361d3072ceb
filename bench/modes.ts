/**
 * Suite "modes": the fingerprint engine against the page engine (docs/fingerprints.md).
 *
 *   fingerprinting  records of 64 MiB of pages through src/fingerprint/hash.ts (each 1 MiB chunk
 *                   copied into the hasher's memory, then one read per page), against the kernel's
 *                   checksum alone over the same chunks (the same copy, XXH64 only);
 *   against floor   the core's fingerprinting in place over 256 MiB of pages (out of cache), against
 *                   the read-once floor (bench/floor.ts) over the same pages, runs interleaved;
 *   ceiling         the kernel's checksum alone, arranged three ways (bench/checksum-ceiling.ts):
 *                   what no pass that checksums every page can beat, as a share of the floor;
 *   memory          the fingerprint engine's bytes per page, measured from its allocator (blocks
 *                   and fingerprint frames in use) after the estimate settled;
 *   estimate        `estimate --scenario clones --size S` in both modes: reading the inputs into the
 *                   engine, the full scans, and both, for sizes that double (auto's line: mode.ts).
 */
import { Ksm } from '../src/index.js';
import type { WasmBackend } from '../src/core.js';
import { instantiateCoreSync } from '../src/core.js';
import { PageHasher } from '../src/fingerprint/hash.js';
import { loadSpaces, runEstimate, type EstimateRun } from '../src/estimate/run.js';
import { openScaledScenario } from '../src/estimate/scaled.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import { median, round, stopwatch, type Context, type Row } from './lib.js';
import { floorFor } from './floor.js';
import { WAYS, checksumCeiling, type CeilingRun } from './checksum-ceiling.js';
import { inputPages, type ImageSource } from '../src/estimate/source.js';

const MiB = 2 ** 20;

export async function modes(ctx: Context): Promise<void> {
  fingerprinting(ctx);
  fingerprintingAgainstFloor(ctx);
  await checksumCeilingTable(ctx);
  await memoryPerPage(ctx);
  await estimates(ctx);
}

function fingerprinting(ctx: Context): void {
  const bytes = (ctx.options.smoke ? 4 : 64) * MiB;
  const pages = new Uint8Array(bytes);
  const words = new Uint32Array(pages.buffer);
  for (let i = 0; i < words.length; i++) words[i] = Math.imul(i, 0x9e3779b1) ^ (i >>> 7);
  const hasher = new PageHasher();
  hasher.fingerprintPages(pages.subarray(0, MiB)); // warm-up
  // The checksum alone, through the same chunking (a core of its own, its checksumAt per page).
  const core = instantiateCoreSync();
  core.init(64);
  const at = core.reserveArena(MiB) >>> 0;
  const view = new Uint8Array(core.memory.buffer);
  const checksumOnly = () => {
    for (let off = 0; off < bytes; off += MiB) {
      view.set(pages.subarray(off, off + MiB), at);
      for (let p = 0; p < MiB; p += 4096) core.checksumAt(at + p);
    }
  };
  checksumOnly();
  const best = (fn: () => void) => {
    let ms = Infinity;
    for (let r = 0; r < 3; r++) { const t = stopwatch(); fn(); ms = Math.min(ms, t()); }
    return ms;
  };
  const fpMs = best(() => hasher.fingerprintPages(pages));
  const ckMs = best(checksumOnly);
  const gbs = (ms: number) => round(bytes / ms / 1e6);
  ctx.figure('modes.fingerprinting.GBps', bytes / fpMs / 1e6);
  ctx.table('Fingerprinting 64 MiB of pages (best of 3; each 1 MiB chunk copied into the hasher, then read once)', [
    { what: 'fingerprint records (checksum + 128-bit fingerprint + zero flag)', ms: round(fpMs), 'GB/s': gbs(fpMs), 'M pages/s': round(bytes / 4096 / fpMs / 1e3) },
    { what: 'the kernel checksum alone (same copy)', ms: round(ckMs), 'GB/s': gbs(ckMs), 'M pages/s': round(bytes / 4096 / ckMs / 1e3) },
  ]);
}

/**
 * Issue 10's target: fingerprinting (checksum and fingerprint from one read) ≥ 60 % of the read-once
 * floor, per core. Both read the same pages in the core's memory, with no copy: the floor's SIMD
 * loop over the region, the core's fingerprintPages over its pages; five runs each, interleaved.
 */
function fingerprintingAgainstFloor(ctx: Context): void {
  const bytes = (ctx.options.smoke ? 8 : 256) * MiB;
  const core = instantiateCoreSync();
  if (core.init((bytes + 32 * MiB) / 65536) !== 0) throw new Error('modes: no memory for the floor comparison');
  const at = core.reserveArena(bytes) >>> 0;
  const out = core.reserveArena((bytes / 4096) * 24) >>> 0;
  const words = new Uint32Array(core.memory.buffer, at, bytes / 4);
  for (let i = 0; i < words.length; i++) words[i] = Math.imul(i, 0x9e3779b1) ^ (i >>> 7);
  const floor = floorFor(core.memory);
  const floorMs: number[] = [];
  const fpMs: number[] = [];
  const checksumMs: number[] = [];
  for (let r = 0; r < 6; r++) { // the first round warms them up (V8 tiers WebAssembly up lazily)
    const t0 = stopwatch(); floor.readSimd(at, bytes); const f = t0();
    const t1 = stopwatch(); core.fingerprintPages(at, bytes / 4096, out); const p = t1();
    const t2 = stopwatch(); for (let page = at; page < at + bytes; page += 4096) core.checksumAt(page); const c = t2();
    if (r > 0) { floorMs.push(f); fpMs.push(p); checksumMs.push(c); }
  }
  const ratios = floorMs.map((f, i) => f / fpMs[i]);
  ctx.figure('modes.fingerprinting.overFloor.median', median(ratios));
  ctx.figure('modes.fingerprinting.overFloor.min', Math.min(...ratios));
  ctx.figure('modes.fingerprinting.overFloor.max', Math.max(...ratios));
  const gbs = (ms: number) => round(bytes / ms / 1e6);
  ctx.table(`Fingerprinting in place vs the read-once floor, ${bytes / MiB} MiB (out of cache; 5 runs each, interleaved)`, [
    { what: 'read-once floor (SIMD loads, 4 accumulators)', 'median ms': round(median(floorMs)), 'GB/s': gbs(median(floorMs)) },
    { what: 'fingerprint records (checksum + 128-bit fingerprint + zero flag)', 'median ms': round(median(fpMs)), 'GB/s': gbs(median(fpMs)), 'of the floor': `${round(100 * median(ratios))} % (${round(100 * Math.min(...ratios))}–${round(100 * Math.max(...ratios))} %)` },
    { what: 'the kernel\'s checksum alone (XXH64, one call a page)', 'median ms': round(median(checksumMs)), 'GB/s': gbs(median(checksumMs)), 'of the floor': `${round(100 * median(floorMs) / median(checksumMs))} %` },
  ]);
  ctx.figure('modes.checksum.overFloor', median(floorMs) / median(checksumMs));
}

/** The checksum's ceiling, out of cache and in cache (bench/checksum-ceiling.ts). */
async function checksumCeilingTable(ctx: Context): Promise<void> {
  const bytes = (ctx.options.smoke ? 8 : 256) * MiB;
  const rows: Row[] = [];
  const runs = ctx.options.smoke ? 1 : 5;
  const measured: Record<'outOfCache' | 'inCache', CeilingRun> = {
    outOfCache: await checksumCeiling(bytes, false, runs),
    inCache: await checksumCeiling(bytes, true, runs),
  };
  const gbs = (ms: number) => bytes / ms / 1e6;
  for (const [where, run] of Object.entries(measured)) {
    const label = where === 'inCache' ? 'in cache (32 pages, 128 KiB, again and again)' : `out of cache (${bytes / MiB} MiB)`;
    rows.push({ where: label, 'read-once floor GB/s': round(gbs(run.floorMs)), ...Object.fromEntries(WAYS.map((way) => [`${WAY_LABEL[way]} GB/s`, round(gbs(run.ms[way]))])), fastest: WAY_LABEL[run.fastest] });
    ctx.figure(`modes.checksumCeiling.${where}.GBps`, gbs(run.ms[run.fastest]));
    ctx.figure(`modes.checksumCeiling.${where}.floorGBps`, gbs(run.floorMs));
  }
  // No pass can checksum faster than the checksum computes (in cache) nor read faster than the floor
  // (both runs cover `bytes`, so their times compare).
  const { inCache, outOfCache } = measured;
  const ceiling = Math.min(1, outOfCache.floorMs / inCache.ms[inCache.fastest]);
  ctx.figure('modes.checksumCeiling.overFloor', ceiling);
  ctx.table(`The kernel's checksum three ways (median of ${runs} interleaved runs each): the ceiling of a pass that checksums every page`, rows);
  ctx.note(`The ceiling: the fastest of these ways in cache (the checksum's compute alone) over this suite's floor out of cache: ${round(100 * ceiling)} %. A pass that checksums every page reaches no more of this floor unless it checksums faster than the fastest of these loops; against the fleet's floor (fleet suite, another memory) the share differs. Out of cache the same loops also wait on memory.`);
}
const WAY_LABEL = { onePageAtATime: 'one page at a time', twoPagesInterleaved: 'two pages interleaved', twoPagesInVectors: 'two pages in vectors' } as const;

async function memoryPerPage(ctx: Context): Promise<void> {
  const size = (ctx.options.smoke ? 8 : 256) * MiB;
  const rows: Row[] = [];
  for (const [name, sources] of [[`clones --size ${size / MiB}M`, openScaledScenario('clones', size)], ['every page unique', [uniqueSource(size / 4096)]]] as const) {
    rows.push(...await measureMemory(name, sources));
  }
  for (const row of rows) ctx.figure(`modes.fingerprints.${row.input}.${row.when}.bytesPerPage`, row['bytes per page'] as number);
  ctx.figure('modes.fingerprints.bytesPerPage.max', Math.max(...rows.map((row) => row['bytes per page'] as number)));
  ctx.table('Fingerprint engine memory per page, from its allocator', rows);
  ctx.note('Bytes in use: 4 KiB blocks in use (page tables: 4 bytes per page; item areas: a 24-byte rmap item per page; slabs of 32-byte stable nodes) plus 20-byte fingerprint frames in use. Merging frees frames; stable nodes take records.');
}

/** One space of `pages` pages, each different (a counter in an otherwise zero page). */
function uniqueSource(pages: number): ImageSource {
  return {
    name: 'unique', pages,
    read(sink) {
      const chunk = new Uint8Array(256 * 4096);
      const view = new DataView(chunk.buffer);
      for (let first = 0; first < pages; first += 256) {
        for (let i = 0; i < 256; i++) view.setUint32(i * 4096 + 64, first + i + 1, true);
        sink(chunk.subarray(0, Math.min(256, pages - first) * 4096), first);
      }
    },
  };
}

async function measureMemory(input: string, sources: readonly ImageSource[]): Promise<Row[]> {
  const pages = inputPages(sources);
  const ksm = await Ksm.create({ engine: 'fingerprints', maxMemory: 1 << 30, knobs: { pages_to_scan: 1 << 20 } });
  loadSpaces(ksm, sources, 1 << 30);
  const loaded = (ksm.backend as WasmBackend).engineMemory().dataBytes;
  ksm.setKnob('run', 1);
  while (ksm.stats().fullScans < 3) ksm.scan();
  const backend = ksm.backend as WasmBackend;
  const settled = backend.engineMemory().dataBytes;
  const s = ksm.stats();
  ksm.close();
  return [
    { input, pages, when: 'loaded', 'bytes in use': loaded, 'bytes per page': round(loaded / pages), 'rmap items': 0, 'pages sharing': 0 },
    { input, pages, when: 'after 3 full scans', 'bytes in use': settled, 'bytes per page': round(settled / pages), 'rmap items': s.rmapItems, 'pages sharing': s.pagesSharing },
  ];
}

async function estimates(ctx: Context): Promise<void> {
  const sizes = ctx.options.smoke ? [4] : ctx.quick ? [4, 16, 64] : [4, 16, 64, 256];
  const rows: Row[] = [];
  for (const mib of sizes) {
    const row: Row = { size: `${mib} MiB`, pages: mib * 256 };
    for (const mode of ['pages', 'fingerprints'] as const) {
      const start = performance.now(); // wall, as readMs and wallMs are
      const run: EstimateRun = await runEstimate(openScaledScenario('clones', mib * MiB), {
        engine: mode === 'pages' ? 'wasm' : 'fingerprints', knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: 20000 }, maxScans: 5, stableScans: 3,
      });
      const ms = performance.now() - start;
      row[`${mode}: read ms`] = round(run.readMs);
      row[`${mode}: scans ms`] = round(run.scans[run.scans.length - 1].wallMs);
      row[`${mode}: total ms`] = round(ms);
      ctx.figure(`modes.clones.${mib}M.${mode}.totalMs`, ms);
    }
    row['pages ÷ fingerprints (total)'] = round((row['pages: total ms'] as number) / (row['fingerprints: total ms'] as number));
    rows.push(row);
  }
  ctx.table('estimate --scenario clones --size S --pages-to-scan 20000 --max-scans 5, page engine vs fingerprint engine (one run each, wall ms)', rows);
  ctx.note('total: engine start-up, generating and reading the pages into the engine, and the full scans. auto takes fingerprints from src/estimate/mode.ts AUTO_FINGERPRINTS_FROM_PAGES pages on.');
}
