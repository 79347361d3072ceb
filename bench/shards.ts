/**
 * Suite "shards": content shards on worker threads against one engine, page engine and fingerprint
 * engine, on the fleet suite's 7 cloned guests (325 MiB; 64 MiB quick), pages_to_scan 5000, to the
 * settled state. The time compared
 * is scanning (the settled scan's cumulative wall_ms); starting the workers (startup_ms) and
 * reading the inputs are shown apart. Rounds of one thread and N threads alternate (eleven, for a
 * median that a few slow rounds do not move); before each, the last run's memory is collected and
 * given back (settleMemory); the guests are rendered once, before the first round. The counters
 * are checked equal. A second table runs the two shards in one thread, one after the other, to show
 * how the work splits (workSplit). A full run repeats the comparison at 4× the fleet (1.3 GiB,
 * five rounds), where fixed costs weigh less; the targets read the fleet's.
 */
import { availableParallelism } from 'node:os';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import { runEstimate, type EstimateRun } from '../src/estimate/run.js';
import type { ImageSource } from '../src/estimate/source.js';
import { mergeState } from '../src/estimate/convergence.js';
import { runShardedEstimate } from '../src/shards/coordinator.js';
import { inProcessShard, type ShardHostFactory } from '../src/shards/host.js';
import { median, ratio, round, settleMemory, type Context, type Row } from './lib.js';
import { showSpread, spread } from './fleet.js';
import { clones, fleet, mib, PAGE, renderGuest, totalPages, type Workload } from './workloads.js';

const CHUNK_PAGES = 1024;

/**
 * A workload's guests, rendered once before any run. Rendering (an AES stream per page run) makes
 * garbage that the next collections pay for; rendered as the sources were read, it was collected
 * while the shards scanned, and a collection on the coordinator's thread delayed the shards'
 * reports by milliseconds (the fleet settles in about 25 ms).
 */
function renderGuests(w: Workload): Uint8Array[] {
  return Array.from({ length: w.guests }, (_, g) => renderGuest(w, g, 0, new Uint8Array(w.pagesPerGuest * PAGE)));
}

/** The rendered guests as sources, read chunk by chunk as a file would be. */
function sources(images: readonly Uint8Array[]): ImageSource[] {
  return images.map((image, g) => ({
    name: `clones/guest${g}`,
    pages: image.length / PAGE,
    read(sink) {
      for (let first = 0; first < image.length / PAGE; first += CHUNK_PAGES) sink(image.subarray(first * PAGE, Math.min(first + CHUNK_PAGES, image.length / PAGE) * PAGE), first);
    },
  }));
}

type Engine = 'wasm' | 'fingerprints';
/** The figures' prefix and the tables' name of an engine. */
const figureKey = (engine: Engine): string => (engine === 'wasm' ? 'shards' : 'shards.fingerprints');
const engineLabel = (engine: Engine): string => (engine === 'wasm' ? 'pages' : 'fingerprints');

/** Runs of each engine at each thread count: one thread and N threads alternate, so each ratio pairs runs of one moment. */
const ROUNDS = 11;
/** Rounds at 4× the fleet (each takes seconds: reading and dealing 1.3 GiB). */
const LARGE_ROUNDS = 5;

type Settings = Omit<Parameters<typeof runEstimate>[1], 'engine'>;

export async function shards(ctx: Context): Promise<void> {
  const w = ctx.quick ? clones(64 * 256, 7) : fleet();
  const images = renderGuests(w);
  const settings = { knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: 5000 }, maxScans: 20, stableScans: 3 };
  const rounds = ctx.options.smoke ? 1 : ROUNDS;
  await threadsAgainstOne(ctx, w, images, settings, rounds, '');
  ctx.note('Scanning is the settled scan\'s cumulative wall_ms; startup (workers, compiling their engines) and reading (with fingerprinting, to deal pages to shards) are apart. Each ratio pairs the runs of one round.');
  ctx.note('The full run uses the fleet suite\'s workload (bench/workloads.ts fleet()), so its settle time compares with ksmd\'s CPU to settle measured there.');
  await workSplit(ctx, images, settings, rounds);
  if (ctx.quick || ctx.options.smoke) return;
  const large = fleet(4 * totalPages(w));
  await threadsAgainstOne(ctx, large, renderGuests(large), settings, LARGE_ROUNDS, 'large.');
  ctx.note('At 4× the fleet the runs take 5 to 10 times longer, and the few ms a run loses to starting threads and to this machine\'s scheduling weigh less; the fleet\'s ratios above are the targets\'.');
}

/** One thread against N, alternating, each engine; figures under `shards.<prefix>` (and `shards.fingerprints.<prefix>`). */
async function threadsAgainstOne(ctx: Context, w: Workload, images: readonly Uint8Array[], settings: Settings, rounds: number, prefix: string): Promise<void> {
  const threads = [...new Set([1, 2, availableParallelism()])];
  const rows: Row[] = [];
  let reference: EstimateRun | undefined;
  for (const engine of ['wasm', 'fingerprints'] as const) {
    const key = `${figureKey(engine)}.${prefix}`;
    const settle = new Map<number, number[]>(threads.map((n) => [n, []]));
    const last = new Map<number, { run: EstimateRun; total: number }>();
    for (let r = 0; r < rounds; r++) {
      for (const n of threads) {
        await settleMemory();
        const t0 = performance.now();
        const run = n === 1 ? await runEstimate(sources(images), { ...settings, engine }) : await runShardedEstimate(sources(images), { ...settings, engine, shards: n });
        last.set(n, { run, total: performance.now() - t0 });
        reference ??= run;
        const settled = run.scans[run.settledAt - 1];
        if (mergeState(settled) !== mergeState(reference.scans[reference.settledAt - 1])) throw new Error(`shards bench: ${engine}, ${n} threads changed the counters`);
        settle.get(n)!.push(settled.wallMs);
        ctx.progress(`shards ${w.name} ${round(mib(totalPages(w)))} MiB, ${engine} ${n} threads, round ${r + 1}: settle ${round(settled.wallMs)} ms`);
      }
    }
    for (const n of threads) {
      const ms = settle.get(n)!;
      ctx.figure(`${key}${n}.settleWallMs`, median(ms));
      const speedups = ms.map((m, r) => settle.get(1)![r] / m);
      if (n > 1) for (const [k, v] of Object.entries(spread(speedups))) ctx.figure(`${key}${n}.speedup.${k}`, v);
      const { run, total } = last.get(n)!;
      rows.push({
        engine: engineLabel(engine), 'guest MiB': round(mib(totalPages(w))), threads: n, shards: run.shards ?? 1,
        'scanning to settle ms, median (min–max)': showSpread(spread(ms)), 'threads ÷ one thread': n === 1 ? '' : showSpread(spread(speedups), ratio),
        'all scans ms (last run)': round(run.scans[run.scans.length - 1].wallMs), 'startup ms (last run)': round(run.startupMs ?? 0),
        'read ms (last run)': round(run.readMs), 'whole run ms (last run)': round(total),
      });
    }
  }
  ctx.table(`Content shards: threads ÷ one thread, scanning to the settled state (${w.name}: ${w.guests} cloned guests, ${round(mib(totalPages(w)))} MiB, pages_to_scan 5000; ${rounds} rounds, one thread and N threads alternating)`, rows);
}

/**
 * How the work splits: the same two shards run in this thread, one scan of each in turn (never two
 * at once, so nothing is contended), each shard's own time to the settled scan taken apart. One
 * thread's time over the slower shard's is what two threads would give if running side by side cost
 * nothing more; it folds in both the balance of the split and the halves being cheaper than the
 * whole (smaller trees), and it is no hard bound: two threads can beat it in a run, as the host's
 * speed moves between the two measurements.
 */
async function workSplit(ctx: Context, images: readonly Uint8Array[], settings: Settings, rounds: number): Promise<void> {
  const rows: Row[] = [];
  for (const engine of ['wasm', 'fingerprints'] as const) {
    const ideal: number[] = [];
    let pagesPerShard: number[] = [];
    let shardMs: number[] = [];
    for (let r = 0; r < Math.min(rounds, 3); r++) {
      await settleMemory();
      const one = await runEstimate(sources(images), { ...settings, engine });
      await settleMemory();
      const pages: number[] = [];
      const scanMs: number[][] = [];
      const host: ShardHostFactory = async (spec) => {
        const shard = pages.length;
        pages.push(0);
        scanMs.push([]);
        const inner = await inProcessShard(spec);
        return {
          ...inner,
          write(batch) { pages[shard] += batch.pages.length; inner.write(batch); },
          writeRecords(batch) { pages[shard] += batch.pages.length; inner.writeRecords(batch); },
          runScans: (maxScans, stop, onScan) => inner.runScans(maxScans, stop, (scan) => { scanMs[shard].push(scan.wallMs); onScan(scan); }),
        };
      };
      const split = await runShardedEstimate(sources(images), { ...settings, engine, shards: 2, host });
      if (split.settledAt !== one.settledAt || mergeState(split.scans[split.settledAt - 1]) !== mergeState(one.scans[one.settledAt - 1])) {
        throw new Error(`shards bench: ${engine}, the split run settled elsewhere than one engine`);
      }
      shardMs = scanMs.map((ms) => ms.slice(0, split.settledAt).reduce((a, b) => a + b, 0));
      pagesPerShard = pages;
      ideal.push(one.scans[one.settledAt - 1].wallMs / Math.max(...shardMs));
    }
    const total = pagesPerShard.reduce((a, b) => a + b, 0);
    const key = figureKey(engine);
    ctx.figure(`${key}.split.idealSpeedup.median`, median(ideal));
    ctx.figure(`${key}.split.largestShare`, Math.max(...pagesPerShard) / total);
    rows.push({
      engine: engineLabel(engine),
      'pages per shard': pagesPerShard.join(' / '), 'largest shard\'s pages': `${round((100 * Math.max(...pagesPerShard)) / total)} %`,
      'each shard to settle ms (last round)': shardMs.map(round).join(' / '),
      'one thread ÷ slower shard, median (min–max)': showSpread(spread(ideal), ratio),
    });
  }
  ctx.table('How the work splits: the two shards run in one thread, one scan of each in turn, each timed apart', rows);
  ctx.note('One thread ÷ the slower shard is what two threads would give if running side by side cost nothing more (the halves of a split are also cheaper than the whole: smaller trees). The measured ratio above falls short of it by what two threads share (memory, caches, the coordinator\'s messages) and moves with this machine\'s noise. A content lands whole in one shard; contents are dealt in buckets, each to the shard with the fewest pages so far, so the zero pages (10 % of these guests) do not leave their shard the larger (src/shards/balance.ts).');
}
