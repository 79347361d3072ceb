/**
 * Prints the README's "Benchmarks" section (markdown) from a results file:
 *   node --import tsx bench/readme.ts [bench/results/latest.json]
 * The section is pasted at the end of README.md by hand after a full run.
 */
import { readFileSync } from 'node:fs';
import { Context } from './lib.js';
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
const WORKLOADS = ['clones', 'unique', 'zeros', 'prefix'];
const steady = WORKLOADS.flatMap((w) => [3, 4].map((p) => f[`kernel.${w}.pass${p}.cpuMs`] / f[`scans.${w}.wasm.pass${p}.ms`])).filter(Number.isFinite);
const whole = WORKLOADS.map((w) => f[`scans.${w}.reference.total.ms`] / f[`scans.${w}.wasm.total.ms`]).filter(Number.isFinite);
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
  `every tree step reads a page), and whole scans run ${range(whole)}× faster than the reference. What`,
  'keeps the time to the settled state near ksmd\'s is the first pass (every page hashed',
  'once, and linear memory grown mid-pass for the rmap items) and, on cloned guests, the merge pass',
  '(every merged page compared in full with its KSM page: two pages read per page).',
  '',
];
console.log(lines.join('\n'));
