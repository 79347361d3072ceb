/**
 * Prints the README's "Benchmarks" section (markdown) from a results file:
 *   node --import tsx bench/readme.ts [bench/results/latest.json]
 * The section is pasted at the end of README.md by hand after a full run.
 */
import { readFileSync } from 'node:fs';
import type { Target } from './lib.js';

const file = process.argv[2] ?? new URL('./results/latest.json', import.meta.url).pathname;
const run = JSON.parse(readFileSync(file, 'utf8')) as {
  env: Record<string, string | number>;
  targets: Target[];
  figures: Record<string, number>;
};
const e = run.env;
const lines = [
  '## Benchmarks',
  '',
  '`npm run bench` (about 3 minutes; `npm run bench -- --quick` is a smoke run under a minute) puts the',
  'WebAssembly core beside the plain-TypeScript reference engine, native Node, a read-every-byte-once',
  'floor and this machine\'s own ksmd, and writes every figure to `bench/results/latest.json`.',
  `Last full run: ${String(e.date).slice(0, 10)}, ${e.cpu} × ${e.cores} (shared with other work, so CPU time is`,
  `the clock and only ratios from one run are compared), ${e.memoryGiB} GiB, Linux ${e.kernel}, Node ${e.node}.`,
  '',
  '| target | measured | goal | |',
  '| --- | --- | --- | --- |',
  ...run.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.goal} | ${t.result} |`),
  '',
];
console.log(lines.join('\n'));
