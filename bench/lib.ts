/**
 * What every suite shares: the clocks, the run context (mode, tables, figures), small statistics,
 * and the machine description that goes into the JSON.
 *
 * Clocks. This machine has 2 cores and other work runs beside the benches. Wall time then
 * includes time spent waiting for a core, and the process's CPU time (`process.cpuUsage`) includes
 * V8's helper threads (concurrent GC, compilers), which can run during a short measurement. The
 * code measured runs on the main thread only, so its own CPU time is at most either figure: every
 * timed interval here takes the smaller of the two (`Timing.ms`), and keeps both in the JSON.
 * tinybench's micro benchmarks take the median of many short wall-clock samples instead (a sample
 * that lost its core is an outlier, and the median ignores it). Ratios are always of two figures
 * taken the same way, in the same run.
 */
import { execFileSync } from 'node:child_process';
import { arch, cpus, loadavg, release, totalmem } from 'node:os';
import { Bench, type Task } from 'tinybench';

/** CPU time of this process in ms (user + system, all threads). */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Timing {
  /** min(cpuMs, wallMs): the best bound on the main thread's own time (see the header). */
  ms: number;
  cpuMs: number;
  wallMs: number;
}

/** Runs `fn` once and times it on both clocks. */
export function time<T>(fn: () => T): Timing & { value: T } {
  const c = cpuMs();
  const w = performance.now();
  const value = fn();
  const cpu = cpuMs() - c, wall = performance.now() - w;
  return { ms: Math.min(cpu, wall), cpuMs: cpu, wallMs: wall, value };
}

/** Starts a stopwatch; calling it gives min(CPU, wall) ms since the start (see the header). */
export function stopwatch(): () => number {
  const c = cpuMs();
  const w = performance.now();
  return () => Math.min(cpuMs() - c, performance.now() - w);
}

/** The sum of timings (for several passes). */
export const sumTimings = (ts: readonly Timing[]): Timing => ({
  ms: ts.reduce((a, t) => a + t.ms, 0), cpuMs: ts.reduce((a, t) => a + t.cpuMs, 0), wallMs: ts.reduce((a, t) => a + t.wallMs, 0),
});

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const geomean = (xs: readonly number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/** Rounds for tables: 3 significant digits, integers above 1000. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) >= 1000) return Math.round(x);
  return Number(x.toPrecision(3));
}
export const ratio = (x: number): string => (Number.isFinite(x) ? `${round(x)}×` : '–');
export const perSecond = (count: number, ms: number): number => (count * 1000) / ms;

export type Row = Record<string, string | number | boolean | null>;

export interface Target {
  target: string;
  measured: string;
  goal: string;
  /** SPREAD CROSSES: some repeated runs meet the goal and some do not (the spread straddles it). */
  result: 'PASS' | 'MISS' | 'n/a' | 'SPREAD CROSSES';
  /** The rows this comes from, and how it is computed. */
  basis: string;
}

export interface Options {
  quick: boolean;
  /** Suites to run (all when empty). */
  only: string[];
  jsonPath: string;
  /** Seconds to wait for KSM to become idle before the kernel suite gives up. */
  kernelWait: number;
  /** Print progress lines on stderr. */
  verbose: boolean;
  /** Print tables and notes on stdout (the smoke test turns this off). */
  print?: boolean;
  /** Samples of a few ms only: checks that a suite runs and produces figures (the smoke test). */
  smoke?: boolean;
}

/** One run of the benches: options, and everything measured, by suite. */
export class Context {
  /** Wall-clock deadline of the whole run (performance.now() ms): 5 minutes full, 1 minute quick, with a margin. */
  readonly deadline: number;
  /** Seconds the suites still to come need at least; a suite that grows to fill the budget leaves them this. */
  reserve = 0;
  readonly #costs = new Map<string, number>();
  readonly suites: Record<string, { tables: Record<string, Row[]>; notes: string[]; seconds?: number }> = {};
  readonly figures: Record<string, number> = {};
  readonly targets: Target[] = [];
  #suite = '';

  constructor(readonly options: Options) {
    this.deadline = performance.now() + (options.quick ? 52 : 280) * 1000;
  }
  get quick(): boolean { return this.options.quick; }

  /** Whole seconds left before the deadline. */
  budgetLeft(): number { return Math.max(0, Math.round((this.deadline - performance.now()) / 1000)); }

  /** Remembers what `pages` pages of work of kind `key` took (wall ms), to project larger sizes. */
  learn(key: string, pages: number, wallMs: number): void { this.#costs.set(key, wallMs / pages); }

  /** Whether `pages` pages of work of kind `key` fit in the time left, keeping the reserve (wall clock). */
  fits(key: string, pages: number): boolean {
    const perPage = this.#costs.get(key);
    if (perPage === undefined) return this.budgetLeft() > this.reserve;
    return (perPage * pages * 1.2) / 1000 <= this.budgetLeft() - this.reserve;
  }

  begin(suite: string): void {
    this.#suite = suite;
    this.suites[suite] ??= { tables: {}, notes: [] };
  }

  /** Prints a table (console.table) under a title and keeps it for the JSON. */
  table(title: string, rows: Row[]): void {
    this.suites[this.#suite].tables[title] = rows;
    if (this.options.print === false) return;
    console.log(`\n${title}`);
    console.table(rows);
  }

  /** A line of explanation, printed and kept. */
  note(text: string): void {
    this.suites[this.#suite].notes.push(text);
    if (this.options.print !== false) console.log(`  · ${text}`);
  }

  /** A named figure other suites or the targets use (e.g. "scans.clones.wasm.merge.pagesPerSec"). */
  figure(name: string, value: number): number {
    this.figures[name] = value;
    return value;
  }

  progress(text: string): void {
    if (this.options.verbose) process.stderr.write(`    … ${text}\n`);
  }
}

/** Machine, runtime, date and commit, for the JSON and the README. */
export function environment(): Record<string, string | number> {
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'assembly', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch { /* not a git checkout */ }
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round(totalmem() / 2 ** 30),
    kernel: release(),
    arch: arch(),
    node: process.version,
    v8: process.versions.v8,
    commit: dirty ? `${commit} (engine sources modified)` : commit,
    loadAverageAtStart: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

/**
 * A tinybench run. Each task function does `batch` operations, so one sample lasts tens of µs;
 * ops/s = batch / median sample time (wall clock: preempted samples are outliers the median
 * ignores). tinybench warms every task up first (its warmup phase runs the function for
 * `warmupTime` ms before sampling).
 */
export async function microBench(
  ctx: Context,
  tasks: Array<{ name: string; batch: number; fn: () => unknown }>,
): Promise<Map<string, { opsPerSec: number; nsPerOp: number; rme: number; samples: number }>> {
  const smoke = ctx.options.smoke === true;
  const bench = new Bench({
    time: smoke ? 4 : ctx.quick ? 50 : 250,
    warmupTime: smoke ? 2 : ctx.quick ? 20 : 100,
    warmupIterations: smoke ? 2 : 8,
    iterations: smoke ? 4 : 16,
    throws: true,
  });
  const batches = new Map<string, number>();
  for (const t of tasks) {
    batches.set(t.name, t.batch);
    bench.add(t.name, t.fn);
  }
  await bench.run();
  const out = new Map<string, { opsPerSec: number; nsPerOp: number; rme: number; samples: number }>();
  for (const task of bench.tasks as Task[]) {
    const r = task.result as { latency?: { p50: number; rme: number; samplesCount: number } };
    if (!r.latency) throw new Error(`bench task ${task.name} has no result`);
    const batch = batches.get(task.name)!;
    const msPerOp = r.latency.p50 / batch;
    out.set(task.name, { opsPerSec: 1000 / msPerOp, nsPerOp: msPerOp * 1e6, rme: r.latency.rme, samples: r.latency.samplesCount });
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Collects the last run's engines and waits for their memory to be given back. V8 frees the
 * backing stores of collected WebAssembly memories on a background thread; freeing hundreds of
 * MiB of touched pages takes tens of milliseconds of a core, which a timed run that follows then
 * shares (the bench runs with --expose-gc). A CLI run pays this once, at its exit, after its figures.
 */
export async function settleMemory(): Promise<void> {
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 250));
}
