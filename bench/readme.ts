/**
 * Prints the README's "Benchmarks" section (markdown) from a results file:
 *   node --import tsx bench/readme.ts [bench/results/latest.json]
 * The section is pasted at the end of README.md by hand after a full run.
 */
import { readFileSync } from 'node:fs';
import { Context, ratio } from './lib.js';
import { computeTargets } from './targets.js';

const file = process.argv[2] ?? new URL('./results/latest.json', import.meta.url).pathname;
const run = JSON.parse(readFileSync(file, 'utf8')) as {
  env: Record<string, string | number>;
  figures: Record<string, number>;
  suites: Context['suites'];
};
// The targets are computed again from the figures, so the section follows targets.ts as it is now.
const ctx = new Context({ quick: run.env.mode === 'quick', only: [], jsonPath: '', kernelWait: 0, verbose: false, print: false });
Object.assign(ctx.figures, run.figures);
Object.assign(ctx.suites, run.suites);
const targets = computeTargets(ctx);
const e = run.env;
const f = run.figures;
/** The fleet's floor per page (ns), and the checksum's compute per page is 4096 ÷ its GB/s. */
const fleetFloorNs = f['fleet.floor.ms.median'] * 1e6 / f['fleet.pages'];
const WORKLOADS = ['clones', 'unique', 'zeros', 'prefix'];
const steady = WORKLOADS.flatMap((w) => [3, 4].map((p) => f[`kernel.${w}.pass${p}.cpuMs`] / f[`scans.${w}.wasm.pass${p}.ms`])).filter(Number.isFinite);
const whole = WORKLOADS.map((w) => f[`scans.${w}.reference.total.ms`] / f[`scans.${w}.wasm.total.ms`]).filter(Number.isFinite);
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '?' : `${Math.round(100 * x)} %`);
const ns = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '?' : `${Math.round(x)} ns`);
const gbs = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '?' : `${x.toFixed(1)} GB/s`);
const range = (xs: number[]) => (xs.length ? `${Math.floor(Math.min(...xs))}-${Math.round(Math.max(...xs))}` : '?');
const lines = [
  '## Benchmarks',
  '',
  '`npm run bench` (about 3 minutes; `npm run bench -- --quick` is a smoke run under a minute) puts the',
  'WebAssembly core beside the plain-TypeScript reference engine, native Node, a read-every-byte-once',
  'floor and this machine\'s own ksmd, and writes every figure to `bench/results/latest.json`.',
  `Last full run: ${String(e.date).slice(0, 10)}, ${e.cpu} × ${e.cores} cores (shared with other work, so only`,
  `ratios from one run are compared), ${e.memoryGiB} GiB, Linux ${e.kernel}, Node ${e.node}.`,
  '',
  '| target | measured | goal | |',
  '| --- | --- | --- | --- |',
  ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.goal} | ${t.result} |`),
  '',
  `Steady passes take ${range(steady)}× less time than ksmd's CPU (the low end is the prefix workload, where`,
  `every tree step reads a page), and whole scans run ${range(whole)}× faster than the reference.`,
  '',
  `The fleet (${f['fleet.pages'] ?? '?'} pages, 7 guests, far larger than the caches; \`npm run bench -- --only fleet\`) is`,
  'measured against the read-once floor of its own pages (in each run the faster of a SIMD loop into four',
  `accumulators and a native \`Buffer.compare\` of the same pages, which took ${pct(f['fleet.nativeOverFloor.median'])} of the loop's time) in repeated runs, each ratio`,
  'within one run, with the spread: a row whose runs fall on both sides of its goal says SPREAD CROSSES.',
  `Pass 1 hashes every page, and the checksum alone, in cache, takes ${ns(f['fleet.checksum.inCache.nsPerPage.median'])} per page against`,
  `the floor's ${ns(f['fleet.floor.ms.median'] * 1e6 / f['fleet.pages'])} out of cache: pass 1 cannot take less than the larger of the two. The merge pass reads`,
  'every merged page and the KSM page it merged into, each compared in full, two pages far apart at a',
  `time: reading just those pairs once with the floor's loop reaches ${pct(f['fleet.floor.ms.median'] / f['fleet.mergeReads.ms.median'])} of the floor, and the pass takes`,
  `${pct(f['fleet.mergeOverReads.median'])} of the time of those reads. Engine memory per tracked page is read from the allocator (item`,
  'areas, slab blocks, page-table blocks, and the pages of the frame table that were written), not computed from a',
  'record size; where those bytes go, and the least any layout that keeps the kernel\'s trees could',
  'spend (40 B on two identical guests only with no keys and nothing rounded), is in `docs/engine-memory.md`.',
  '',
  `The kernel's checksum itself bounds pass 1 and fingerprinting: timed alone, the fastest of three ways`,
  'of running it (one page at a time, two pages interleaved, two pages in 64-bit vector lanes;',
  `\`bench/checksum-ceiling.ts\`) computes ${gbs(f['modes.checksumCeiling.inCache.GBps'])} in cache and reads ${gbs(f['modes.checksumCeiling.outOfCache.GBps'])} out of cache, against the floor's`,
  `${gbs(f['modes.checksumCeiling.outOfCache.floorGBps'])} there: ${pct(f['modes.checksumCeiling.overFloor'])} of that floor. A pass that checksums every page reaches no more of a floor`,
  `than that unless it checksums faster than the fastest of these loops; against the fleet's floor above (${ns(fleetFloorNs)} a page)`,
  `the same compute is ${pct((fleetFloorNs * f['modes.checksumCeiling.inCache.GBps']) / 4096)}, the most pass 1 there can reach.`,
  '',
  'Content shards deal whole contents, each bucket of them to the shard with the fewest pages so far (src/shards/balance.ts): on the fleet',
  `the larger of two shards holds ${pct(f['shards.split.largestShare'])} of the pages (56 % when dealt by the hash alone, the zero pages in one shard). Run one after the other in one thread, each`,
  `timed apart, the two shards give one thread ÷ the slower shard of ${ratio(f['shards.split.idealSpeedup.median'])} (page engine) and`,
  `${ratio(f['shards.fingerprints.split.idealSpeedup.median'])} (fingerprint engine): what two threads would give if running side by side cost nothing more`,
  '(the halves of a split are also cheaper than the whole: smaller trees).',
  '',
];
console.log(lines.join('\n'));
