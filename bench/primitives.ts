/**
 * Suite "primitives": the page primitives on 4 KiB pages, one page per operation: checksum,
 * fingerprint record (src/fingerprint: checksum, 128-bit fingerprint and zero flag), compare (equal; differ in the first byte; differ in the last byte), zero check, copy,
 * and the generation of a scaled scenario's pages (assembly/generate.ts).
 *
 *   wasm       the core's exports (checksumAt, compareAt, isZeroAt, copyAt) on pages of a space in
 *              the engine's memory (addresses from pageAddress): what the scanner calls inside
 *              one WebAssembly call, here with one boundary crossing per page.
 *   reference  the plain-TypeScript engine's functions (xxh64Low32, memcmpPages, isZeroPage,
 *              Frame.copyFrom) on its Frames holding the same bytes.
 *   native     Node's C++: crypto.hash (sha1, md5) as "native hash" baselines, Buffer.compare,
 *              TypedArray.set.
 *   floor      reading every byte once, nothing else: WebAssembly SIMD (four accumulators,
 *              unrolled) and i64 loops over the same pages in the same memory (bench/floor.ts),
 *              and a JS Int32Array loop. The suite checks that no primitive beats the floor.
 *
 * Each sample does 16 different pages (64 KiB, cache-resident), so these are in-cache speeds.
 */
import * as crypto from 'node:crypto';
import { Ksm } from '../src/index.js';
import type { WasmBackend } from '../src/core.js';
import { SCRATCH_LOCATION } from '../src/generated/core-abi.js';
import { xxh64Low32 } from '../src/reference/xxh64.js';
import { isZeroPage, memcmpPages } from '../src/reference/memory.js';
import { Frame } from '../src/reference/records.js';
import { referenceScenarioPage } from '../src/reference/scenario-page.js';
import { floorFor } from './floor.js';
import { microBench, ratio, round, type Context, type Row } from './lib.js';
import { PAGE, randomPage } from './workloads.js';

const N = 16;

interface PageSet { addr: number[]; frames: Frame[]; js: Uint8Array[] }

/** crypto.hash (Node ≥ 20.12), one-shot, without a Hash object per call. */
const hash = (crypto as unknown as { hash(algorithm: string, data: Uint8Array, encoding: 'buffer'): Uint8Array }).hash;

export async function primitives(ctx: Context): Promise<void> {
  const ksm = await Ksm.create({ engine: 'wasm', maxMemory: 64 << 20 });
  const backend = ksm.backend as WasmBackend;
  const core = backend.core;
  const floor = floorFor(core.memory);

  // One space holds every page the wasm side reads: random pages, their equal copies, copies that
  // differ in the first byte, copies that differ in the last byte, zero pages.
  const kinds = ['random', 'equal', 'early', 'late', 'zero'] as const;
  // One more page holds the random pages' addresses, for the floor that reads all 16 in one call,
  // and one the plans of 16 generated scenario pages.
  const space = ksm.createSpace({ name: 'primitives', pages: kinds.length * N + 2 });
  const sets = {} as Record<(typeof kinds)[number], PageSet>;
  kinds.forEach((kind, k) => {
    const set: PageSet = { addr: [], frames: [], js: [] };
    for (let i = 0; i < N; i++) {
      const page = kind === 'zero' ? new Uint8Array(PAGE) : randomPage(50, i);
      if (kind === 'early') page[0] ^= 1;
      if (kind === 'late') page[PAGE - 1] ^= 1;
      space.write(k * N + i, page);
      const frame = new Frame(i);
      frame.data.set(page);
      set.frames.push(frame);
      set.js.push(page.slice());
    }
    sets[kind] = set;
  });
  // Addresses only after all writes (memory may have grown; pages do not move anyway).
  kinds.forEach((kind, k) => { for (let i = 0; i < N; i++) sets[kind].addr.push(core.pageAddress(space.id, k * N + i)); });
  const listVpn = kinds.length * N;
  const list = new Uint8Array(PAGE);
  new Uint32Array(list.buffer).set(sets.random.addr);
  space.write(listVpn, list);
  const listAddr = core.pageAddress(space.id, listVpn);
  // Plans of 16 generated pages (assembly/generate.ts: kind, a, b, c), made into the scratch area.
  const plans = new Uint8Array(PAGE);
  new Uint32Array(plans.buffer).set(Array.from({ length: N }, (_, i) => [1 + (i % 3), i, 7, 9]).flat());
  space.write(listVpn + 1, plans);
  const plansAddr = core.pageAddress(space.id, listVpn + 1);
  const scratch = SCRATCH_LOCATION;
  const targets = Array.from({ length: N }, (_, i) => new Frame(100 + i));
  const ZERO = new Uint8Array(PAGE);
  const { random, equal, early, late, zero } = sets;

  // Sanity: the three implementations agree on these pages (a benchmark of wrong code is worthless).
  for (let i = 0; i < N; i++) {
    if (core.checksumAt(random.addr[i]) >>> 0 !== xxh64Low32(random.frames[i].data)) throw new Error('checksums differ');
    if (core.compareAt(random.addr[i], equal.addr[i]) !== 0 || memcmpPages(random.frames[i], equal.frames[i]) !== 0) throw new Error('equal pages compare unequal');
    for (const other of [early, late]) {
      const signs = [core.compareAt(random.addr[i], other.addr[i]), memcmpPages(random.frames[i], other.frames[i]), Buffer.compare(random.js[i], other.js[i])].map(Math.sign);
      if (signs[0] === 0 || signs.some((s) => s !== signs[0])) throw new Error(`compare disagrees: ${signs}`);
    }
    if (!core.isZeroAt(zero.addr[i]) || !isZeroPage(zero.frames[i]) || core.isZeroAt(random.addr[i])) throw new Error('zero check wrong');
  }
  core.generateScenarioPages(plansAddr, N, scratch);
  for (let i = 0; i < N; i++) {
    const made = new Uint8Array(core.memory.buffer, scratch + i * PAGE, PAGE);
    if (Buffer.compare(made, referenceScenarioPage(new Uint32Array(plans.buffer, i * 16, 4))) !== 0) throw new Error(`generated page ${i} differs from its definition`);
  }

  let sink = 0;
  const each = (fn: (i: number) => number | bigint | boolean | void | Uint8Array) => () => {
    for (let i = 0; i < N; i++) sink ^= Number(fn(i) ?? 0) | 0;
  };
  const readJs = (words: Int32Array) => { let acc = 0; for (let j = 0; j < words.length; j++) acc ^= words[j]; return acc; };
  const compareTasks = (label: string, other: PageSet) => [
    { group: label, impl: 'wasm', fn: each((i) => core.compareAt(random.addr[i], other.addr[i])) },
    { group: label, impl: 'reference (TS memcmpPages)', fn: each((i) => memcmpPages(random.frames[i], other.frames[i])) },
    { group: label, impl: 'native (Buffer.compare)', fn: each((i) => Buffer.compare(random.js[i], other.js[i])) },
  ];
  const tasks = [
    // The floor proper: 16 pages in one call, so no call's fixed cost is counted per page.
    { group: 'read-once floor', impl: 'wasm SIMD, 16 pages per call (the floor)', fn: () => { sink ^= Number(floor.readPages(listAddr, N)) | 0; } },
    { group: 'read-once floor', impl: 'wasm SIMD (v128 loads), one call per page', fn: each((i) => floor.readSimd(random.addr[i], PAGE)) },
    { group: 'read-once floor', impl: 'wasm i64 loads', fn: each((i) => floor.readScalar(random.addr[i], PAGE)) },
    { group: 'read-once floor', impl: 'JS Int32Array loop', fn: each((i) => readJs(random.frames[i].words)) },
    { group: 'checksum', impl: 'wasm (xxh64)', fn: each((i) => core.checksumAt(random.addr[i])) },
    { group: 'fingerprint record', impl: 'wasm (xxh64 + SIMD hash + zero flag, one read)', fn: each((i) => core.fingerprintPages(random.addr[i], 1, scratch)) },
    { group: 'scenario page generation (--scenario --size)', impl: 'wasm (xorshift128, eight pages at once, written once)', fn: () => { core.generateScenarioPages(plansAddr, N, scratch); } },
    { group: 'checksum', impl: 'wasm generic xxh64 loop (the page checksum before issue 11)', fn: each((i) => core.xxh64At(random.addr[i], PAGE)) },
    { group: 'checksum', impl: 'reference (TS xxh64)', fn: each((i) => xxh64Low32(random.frames[i].data)) },
    { group: 'checksum', impl: 'native sha1 (crypto.hash)', fn: each((i) => hash('sha1', random.js[i], 'buffer')) },
    { group: 'checksum', impl: 'native md5 (crypto.hash)', fn: each((i) => hash('md5', random.js[i], 'buffer')) },
    ...compareTasks('compare, equal pages', equal),
    ...compareTasks('compare, differ in byte 0', early),
    ...compareTasks('compare, differ in byte 4095', late),
    { group: 'zero check', impl: 'wasm', fn: each((i) => core.isZeroAt(zero.addr[i])) },
    { group: 'zero check', impl: 'reference (TS isZeroPage)', fn: each((i) => isZeroPage(zero.frames[i])) },
    { group: 'zero check', impl: 'native (Buffer.compare with a zero page)', fn: each((i) => Buffer.compare(zero.js[i], ZERO)) },
    { group: 'copy', impl: 'wasm (memory.copy)', fn: each((i) => core.copyAt(scratch + i * PAGE, random.addr[i])) },
    { group: 'copy', impl: 'reference = native (TypedArray.set)', fn: each((i) => targets[i].copyFrom(random.frames[i])) },
  ];
  const named = tasks.map((t) => ({ ...t, name: `${t.group} · ${t.impl}` }));
  for (const t of named) t.fn(); // first calls outside the clock (V8 compiles lazily); tinybench then warms up
  const results = await microBench(ctx, named.map((t) => ({ name: t.name, batch: N, fn: t.fn })));
  if (sink === 0.5) console.log(sink); // keeps the results alive

  const floorPps = results.get(named[0].name)!.opsPerSec;
  ctx.figure('primitives.floor.wasmSimd.pagesPerSec', floorPps);
  ctx.figure('primitives.floor.perCall.nsPerPage', results.get(named[1].name)!.nsPerOp);
  const rows: Row[] = [];
  for (const t of named) {
    const r = results.get(t.name)!;
    const wasm = named.find((u) => u.group === t.group && u.impl.startsWith('wasm'))!;
    const wasmPps = results.get(wasm.name)!.opsPerSec;
    rows.push({
      primitive: t.group,
      implementation: t.impl,
      'ns/page': round(r.nsPerOp),
      'M pages/s': round(r.opsPerSec / 1e6),
      'GB/s': round((r.opsPerSec * PAGE) / 1e9),
      'vs floor': ratio(r.opsPerSec / floorPps),
      'wasm speedup': t.impl.startsWith('wasm') ? '' : ratio(wasmPps / r.opsPerSec),
      '±%': round(r.rme),
    });
    ctx.figure(`primitives.${t.group}.${t.impl}.nsPerPage`, r.nsPerOp);
  }
  ctx.table('Page primitives on 4 KiB pages (time per page, median sample; 16 pages per sample, in cache)', rows);

  // A floor must be a floor: no primitive that reads whole pages may read faster than it (per byte
  // read; 10 % for noise). Compares of equal pages read two pages; copy reads one (and writes one).
  const floorNs = results.get(named[0].name)!.nsPerOp;
  const reads: Array<[string, number]> = [
    ['checksum', 1], ['compare, equal pages', 2], ['compare, differ in byte 4095', 2], ['zero check', 1], ['copy', 1],
  ];
  const beaten: string[] = [];
  for (const t of named) {
    const pagesRead = reads.find(([g]) => g === t.group)?.[1];
    if (pagesRead === undefined) continue;
    const perPageRead = results.get(t.name)!.nsPerOp / pagesRead;
    if (perPageRead < floorNs * 0.9) beaten.push(`${t.group} · ${t.impl} (${round(perPageRead)} ns per page read)`);
  }
  ctx.figure('primitives.floorBeaten', beaten.length);
  ctx.note(beaten.length
    ? `FLOOR BROKEN: faster than the read-once floor (${round(floorNs)} ns per page) per page read: ${beaten.join('; ')}`
    : `The floor holds: no primitive reads a page faster than the read-once floor (${round(floorNs)} ns per page; compares of equal pages count two pages).`);
  ctx.note('"vs floor": speed as a fraction of reading the same pages once (wasm SIMD loop, 16 pages per call, same memory); every other row makes one call per page, whose fixed cost counts. "wasm speedup": the wasm row of the same primitive divided by this row.');
  ctx.note('Warm-up: each function is called once before timing, then tinybench warms every task up before sampling.');
  space.close();
}
