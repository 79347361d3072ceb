/**
 * Suite "api": copy-on-write breaks per second, and reads and writes per second through the public
 * API (AddressSpace.read, view, readBytes, write), the WebAssembly engine against the reference.
 *
 * Copy-on-write: two identical guests are merged (every page of the second maps a KSM page); then
 * pages of the second guest are written, which breaks copy-on-write once per page (cow_ksm counts
 * them, and the bench checks it). The byte written equals the byte that was there, so one scan pass
 * merges everything again for the next round (smart_scan is off so that it does). Three ways:
 *   - one 1-byte write call per page (the API's cost per break, boundary crossings included);
 *   - one write call spanning 64 pages of whole-page data (the engine breaks all 64 in one
 *     WebAssembly call; each page is then also overwritten with 4 KiB);
 *   - the same 1-byte writes on the reference engine.
 * Two scenarios: cold (64 MiB of KSM pages, each broken once: every break copies a page from
 * memory) and hot (512 KSM pages that stay in cache, broken round after round). The baseline is a
 * native copy of 4 KiB (TypedArray.set) per page over the same pages, in the same loop shape.
 */
import { Ksm, type AddressSpace } from '../src/index.js';
import { median, microBench, perSecond, ratio, round, stopwatch, type Context, type Row } from './lib.js';
import { engineMemoryFor } from '../src/cli/memory.js';
import type { Engine } from './run.js';
import { PAGE, fillPages, randomPage } from './workloads.js';

interface Merged { ksm: Ksm; a: AddressSpace; b: AddressSpace; image: Uint8Array }

/** Two guests of `pages` identical pages, merged (pages_sharing == pages). */
async function mergedPair(engine: Engine, pages: number): Promise<Merged> {
  const ksm = await Ksm.create({ engine, maxMemory: engineMemoryFor(3 * pages) });
  const image = fillPages(new Uint8Array(pages * PAGE), 300, 0);
  const a = ksm.createSpace({ name: 'a', image, mergeable: true });
  const b = ksm.createSpace({ name: 'b', image, mergeable: true });
  // smart_scan off: every page is visited every pass, so one pass re-merges what the writes broke.
  ksm.setKnobs({ pagesToScan: 2 * pages + 1, smartScan: 0, run: 1 });
  ksm.scanFull(2);
  const sharing = ksm.stats().pagesSharing;
  if (sharing !== pages) throw new Error(`${engine}: expected ${pages} pages sharing after merging, got ${sharing}`);
  return { ksm, a, b, image };
}

/** Breaks copy-on-write on every page of b (one way or another); returns CPU ms. Re-merges after. */
function breakAll(m: Merged, how: 'byte' | 'span'): number {
  const { ksm, b, image } = m;
  const pages = b.pages;
  const cow0 = ksm.stats().cowKsm;
  let ms: number;
  if (how === 'byte') {
    const one = new Uint8Array(1);
    const t = stopwatch();
    for (let vpn = 0; vpn < pages; vpn++) {
      one[0] = image[vpn * PAGE + 100];
      b.write(vpn, one, 100);
    }
    ms = t();
  } else {
    const span = 64;
    const t = stopwatch();
    for (let vpn = 0; vpn < pages; vpn += span) b.write(vpn, image.subarray(vpn * PAGE, (vpn + span) * PAGE));
    ms = t();
  }
  const broken = ksm.stats().cowKsm - cow0;
  if (broken !== pages) throw new Error(`expected ${pages} copy-on-write breaks, cow_ksm moved by ${broken}`);
  ksm.scanFull(1); // the checksum is unchanged, so this pass merges every page again
  if (ksm.live().framesInUse !== pages) throw new Error(`pages did not merge again after the writes (${ksm.live().framesInUse} frames in use)`);
  return ms;
}

interface CowScenario { name: string; pages: number; rounds: number }

/** Copy-on-write breaks per second in one scenario, three ways, with the native-copy baseline. */
async function cowScenario(ctx: Context, sc: CowScenario, reps: number): Promise<{ rows: Row[]; pairs: Record<Engine, Merged> }> {
  const wasm = await mergedPair('wasm', sc.pages);
  const ref = await mergedPair('reference', sc.pages);
  for (const m of [wasm, ref]) breakAll(m, 'byte'); // warm-up, untimed
  breakAll(wasm, 'span');
  const src = wasm.image;
  const dst = new Uint8Array(src.length);
  const copyOnce = () => {
    const t = stopwatch();
    for (let vpn = 0; vpn < sc.pages; vpn++) dst.set(src.subarray(vpn * PAGE, (vpn + 1) * PAGE), vpn * PAGE);
    return t();
  };
  copyOnce();
  const sum = (fn: () => number) => { let ms = 0; for (let r = 0; r < sc.rounds; r++) ms += fn(); return ms; };
  const samples: Record<string, number[]> = { byte: [], span: [], ref: [], copy: [] };
  for (let r = 0; r < reps; r++) {
    samples.byte.push(sum(() => breakAll(wasm, 'byte')));
    samples.span.push(sum(() => breakAll(wasm, 'span')));
    samples.ref.push(sum(() => breakAll(ref, 'byte')));
    samples.copy.push(sum(copyOnce));
  }
  const breaks = sc.pages * sc.rounds;
  const rate = (k: string) => perSecond(breaks, median(samples[k]));
  const copyRate = rate('copy');
  for (const k of ['byte', 'span', 'ref', 'copy']) ctx.figure(`api.cow.${sc.name}.${k}.perSec`, rate(k));
  const rows = ([
    ['wasm: 1-byte write per page, one call per break', rate('byte')],
    ['wasm: one call spanning 64 whole pages (break + 4 KiB written per page)', rate('span')],
    ['reference: 1-byte write per page, one call per break', rate('ref')],
    ['baseline: native 4 KiB copy per page (TypedArray.set), same pages', copyRate],
  ] as Array<[string, number]>).map(([what, r]) => ({
    scenario: sc.name,
    'copy-on-write breaks': what,
    'M per second': round(r / 1e6),
    'ns each': round(1e9 / r),
    'vs native 4 KiB copy': ratio(r / copyRate),
    'vs reference': ratio(r / rate('ref')),
  }));
  return { rows, pairs: { wasm, reference: ref } };
}

export async function api(ctx: Context): Promise<void> {
  const reps = ctx.quick ? 3 : 5;
  const cold = { name: 'cold', pages: ctx.quick ? 4096 : 16384, rounds: 1 };
  const hot = { name: 'hot', pages: 512, rounds: ctx.quick ? 8 : 32 };
  const c = await cowScenario(ctx, cold, reps);
  const h = await cowScenario(ctx, hot, reps);
  ctx.table(`Copy-on-write breaks (median of ${reps} runs; cow_ksm checked after every run)`, [...c.rows, ...h.rows]);
  ctx.note(`cold: ${cold.pages} merged pages (${cold.pages / 256} MiB of KSM pages), each broken once per run: every break copies a page from memory, so this is bound by memory bandwidth, as the native copy row shows.`);
  ctx.note(`hot: ${hot.pages} merged pages (2 MiB, they stay in cache), broken ${hot.rounds} times per run (merged again by one scan pass between rounds, untimed): the engine's own cost per break.`);
  const { wasm, reference: ref } = c.pairs;

  // Reads and writes through the API, on private pages (no copy-on-write), 256 pages per sample.
  const N = 256;
  const tasks: Array<{ name: string; batch: number; fn: () => unknown }> = [];
  const spaces: Record<Engine, AddressSpace> = { wasm: wasm.a, reference: ref.a };
  for (const engine of ['wasm', 'reference'] as Engine[]) {
    const ksm = engine === 'wasm' ? wasm.ksm : ref.ksm;
    ksm.setKnob('run', 2); // unmerge: the pages of `a` are private again
    const s = spaces[engine];
    const page = randomPage(301, 0);
    const small = page.subarray(0, 8);
    let sink = 0;
    tasks.push(
      { name: `${engine}: read(page) → a new 4 KiB copy`, batch: N, fn: () => { for (let i = 0; i < N; i++) sink ^= s.read(i)[7]; } },
      { name: `${engine}: view(page) → zero-copy view`, batch: N, fn: () => { for (let i = 0; i < N; i++) sink ^= s.view(i)[7]; } },
      { name: `${engine}: readBytes(address, 64)`, batch: N, fn: () => { for (let i = 0; i < N; i++) sink ^= s.readBytes(i * PAGE + 64, 64)[3]; } },
      { name: `${engine}: write(page, 4 KiB)`, batch: N, fn: () => { for (let i = 0; i < N; i++) s.write(i, page); } },
      { name: `${engine}: write(page, 8 bytes, offset)`, batch: N, fn: () => { for (let i = 0; i < N; i++) s.write(i, small, 512); } },
    );
    if (sink === 0.5) console.log(sink);
  }
  const copyPage = new Uint8Array(PAGE);
  const source = randomPage(301, 1);
  tasks.push({ name: 'native: new Uint8Array(4096) + set (a 4 KiB copy)', batch: N, fn: () => { for (let i = 0; i < N; i++) { const c = new Uint8Array(PAGE); c.set(source); } } });
  tasks.push({ name: 'native: TypedArray.set of 4 KiB into existing memory', batch: N, fn: () => { for (let i = 0; i < N; i++) copyPage.set(source); } });
  for (const t of tasks) t.fn();
  const results = await microBench(ctx, tasks);
  const opRows: Row[] = [];
  for (const t of tasks) {
    const r = results.get(t.name)!;
    const [engine, op] = t.name.split(': ');
    const other = engine === 'wasm' ? results.get(`reference: ${op}`) : engine === 'reference' ? results.get(`wasm: ${op}`) : undefined;
    opRows.push({
      operation: t.name, 'M ops/s': round(r.opsPerSec / 1e6), 'ns/op': round(r.nsPerOp),
      'wasm ÷ reference': other ? ratio(engine === 'wasm' ? r.opsPerSec / other.opsPerSec : other.opsPerSec / r.opsPerSec) : '', '±%': round(r.rme),
    });
    ctx.figure(`api.${t.name}.opsPerSec`, r.opsPerSec);
  }
  ctx.table(`Reads and writes through the API (private pages, ${N} per sample, tinybench, median sample)`, opRows);
  ctx.note('Copy-on-write runs are timed directly (each run needs a merged state first); the first run of each kind is a warm-up, untimed.');
}
