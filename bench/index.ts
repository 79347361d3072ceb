/**
 * `npm run bench` — ksm-wasm's benchmarks: the WebAssembly core against the plain-TypeScript
 * reference engine, native Node, a read-every-byte-once floor, and the kernel's own ksmd, all
 * measured in one run on this machine, as ratios.
 *
 *   npm run bench                      every suite (under 5 minutes on 2 cores)
 *   npm run bench -- --quick           a smoke run: small sizes, short samples (under a minute)
 *   npm run bench -- --only scans,api  some suites
 *   npm run bench -- --only host       a 64 GiB host estimated by the CLI (minutes; never in a full run)
 *   npm run bench -- --json FILE       where the figures go (default bench/results/latest.json)
 *
 * Suites: primitives, trees, scans, api, memory, kernel. Tables go to stdout; every figure, with
 * the machine, Node version and date, to the JSON file; the headline targets are printed last,
 * each with PASS or MISS.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Context, environment, type Options } from './lib.js';
import { MINIMUM_SECONDS, ON_REQUEST, SUITES } from './suites.js';
import { printTargets } from './targets.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parse(argv: string[]): Options {
  const options: Options = {
    quick: false, only: [], jsonPath: resolve(root, 'bench/results/latest.json'), kernelWait: 60, verbose: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') options.quick = true;
    else if (a === '--only') options.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--json') options.jsonPath = resolve(argv[++i] ?? '');
    else if (a === '--kernel-wait') options.kernelWait = Number(argv[++i]);
    else if (a === '--silent') options.verbose = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [--quick] [--only SUITE,…] [--json FILE] [--kernel-wait SECONDS] [--silent]');
      console.log(`suites: ${Object.keys(SUITES).join(', ')} (${[...ON_REQUEST].join(', ')} only when named)`);
      process.exit(0);
    } else {
      console.error(`bench: unknown argument ${a} (try --help)`);
      process.exit(2);
    }
  }
  for (const name of options.only) {
    if (!(name in SUITES)) {
      console.error(`bench: no suite named ${name} (suites: ${Object.keys(SUITES).join(', ')})`);
      process.exit(2);
    }
  }
  if (options.quick && !argvHas(argv, '--kernel-wait')) options.kernelWait = 5;
  return options;
}
const argvHas = (argv: string[], flag: string) => argv.includes(flag);

async function main(): Promise<void> {
  if (!existsSync(resolve(root, 'src/generated/wasm.ts'))) {
    console.error('bench: the core is not built (src/generated/wasm.ts is missing): run `npm run build` first');
    process.exit(2);
  }
  const options = parse(process.argv.slice(2));
  const ctx = new Context(options);
  const env = environment();
  const started = performance.now();
  console.log(`ksm-wasm benchmarks — ${options.quick ? 'quick (smoke) run' : 'full run'}`);
  console.log(`${env.date} · ${env.cpu} × ${env.cores} · ${env.memoryGiB} GiB · Linux ${env.kernel} · Node ${env.node} (V8 ${env.v8}) · commit ${env.commit} · load ${env.loadAverageAtStart}`);
  console.log('Clock: each timed interval is min(process CPU time, wall time): the code measured runs on the main thread, so neither other work on');
  console.log('this shared machine (wall) nor V8\'s helper threads (CPU) count; both are kept in the JSON. Micro benchmarks: median of short samples.');
  console.log('Warm-up: V8 compiles WebAssembly lazily (a baseline tier, then optimised code for hot functions) and JS likewise,');
  console.log('so every engine runs each workload once, untimed, before its timed runs, and tinybench warms each micro task up.');

  const names = options.only.length ? options.only : Object.keys(SUITES).filter((name) => !ON_REQUEST.has(name));
  for (const name of names) {
    const t0 = performance.now();
    console.log(`\n━━ ${name} ${'━'.repeat(Math.max(0, 90 - name.length))}`);
    ctx.begin(name);
    ctx.reserve = names.slice(names.indexOf(name) + 1).reduce((s, n) => s + MINIMUM_SECONDS[n][options.quick ? 'quick' : 'full'], 0);
    try {
      await SUITES[name](ctx);
    } catch (error) {
      ctx.note(`suite ${name} FAILED: ${(error as Error).stack ?? error}`);
      process.exitCode = 1;
    }
    ctx.suites[name].seconds = Math.round((performance.now() - t0) / 100) / 10;
    ctx.progress(`${name}: ${ctx.suites[name].seconds} s`);
  }

  printTargets(ctx);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const out = { env: { ...env, mode: options.quick ? 'quick' : 'full', seconds }, targets: ctx.targets, figures: ctx.figures, suites: ctx.suites };
  mkdirSync(dirname(options.jsonPath), { recursive: true });
  writeFileSync(options.jsonPath, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`\nEvery figure: ${options.jsonPath} · ${seconds} s in all`);
}

await main();
