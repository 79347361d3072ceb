/**
 * The headline targets (issues 4, 10 and 11), each computed from figures measured in this run and
 * printed as a row with PASS or MISS (n/a when the suite it needs did not run, with the reason).
 * A target measured over repeated runs (the fleet suite's) shows the median and the spread, and
 * says SPREAD CROSSES when some runs meet the goal and others do not.
 */
import { round, type Context, type Target } from './lib.js';

const WORKLOADS = ['clones', 'unique', 'zeros', 'prefix'];

function row(target: string, value: number | undefined, goal: string, pass: (v: number) => boolean, show: (v: number) => string, basis: string): Target {
  if (value === undefined || !Number.isFinite(value)) return { target, measured: '–', goal, result: 'n/a', basis: `not measured in this run — ${basis}` };
  return { target, measured: show(value), goal, result: pass(value) ? 'PASS' : 'MISS', basis };
}

/** A target over repeated runs: figures NAME.min/.median/.max; the goal is met by values above (or below) a bound. */
function spreadRow(target: string, f: Record<string, number>, name: string, goal: string, pass: (v: number) => boolean, show: (v: number) => string, basis: string): Target {
  const [lo, mid, hi] = ['min', 'median', 'max'].map((k) => f[`${name}.${k}`]);
  if (![lo, mid, hi].every((v) => v !== undefined && Number.isFinite(v))) return { target, measured: '–', goal, result: 'n/a', basis: `not measured in this run — ${basis}` };
  const ends = [pass(lo), pass(hi)];
  const result = ends.every(Boolean) ? 'PASS' : ends.some(Boolean) ? 'SPREAD CROSSES' : 'MISS';
  return { target, measured: `${show(mid)} (${show(lo)}–${show(hi)})`, goal, result, basis };
}

/** The targets of issue 11: the fleet against the floor and ksmd, and the engine's memory. */
function fleetTargets(ctx: Context): Target[] {
  const f = ctx.figures;
  const pct = (x: number) => `${round(100 * x)} %`;
  const times = (x: number) => `${round(x)}×`;
  const kernelWhy = f['fleet.kernel.skipped'] === 1
    ? `kernel not run: ${ctx.suites.fleet?.notes.find((n) => n.startsWith('KERNEL SKIPPED')) ?? 'see the fleet suite\'s notes'}` : 'fleet suite';
  const runs = 'fleet suite: median (min–max) of its runs, each ratio within one run';
  return [
    spreadRow('fleet pass 1 (checksums) vs the read-once floor', f, 'fleet.firstOverFloor', '≥ 70 %', (x) => x >= 0.7, pct, `${runs}; floor ms ÷ pass-1 ms`),
    spreadRow('fleet merge pass vs the read-once floor', f, 'fleet.mergeOverFloor', '≥ 40 %', (x) => x >= 0.4, pct,
      `${runs}; floor ms ÷ pass-2 ms${f['fleet.mergeReads.ms.median'] ? `; reading only the pairs its merges compare reaches ${pct(f['fleet.floor.ms.median'] / f['fleet.mergeReads.ms.median'])} of the floor, the pass ${pct(f['fleet.mergeOverReads.median'])} of those reads` : ''}`),
    spreadRow('fleet steady pass, ksmd CPU ÷ engine', f, 'fleet.steadyUnderKernel', '≥ 20×', (x) => x >= 20, times,
      f['fleet.kernel.steady.cpuMs'] ? `${runs}; ksmd's CPU per steady pass (mean of passes 3-4, ${round(f['fleet.kernel.steady.cpuMs'])} ms) ÷ the engine's` : kernelWhy),
    spreadRow('fleet time to the settled state, ksmd CPU ÷ engine (one thread)', f, 'fleet.settleUnderKernel', '≥ 5×', (x) => x >= 5, times,
      f['fleet.kernel.settle.cpuMs'] ? `${runs}; ksmd's CPU to its settled state (${round(f['fleet.kernel.settle.cpuMs'])} ms) ÷ the engine's time to its own` : kernelWhy),
    row('engine memory per tracked page, worst workload: slabs + page tables + frame table, measured', f['memory.engineBytesPerTrackedPage.max'], '≤ 40 B', (x) => x <= 40,
      (x) => `${round(x)} B`, 'memory suite: the allocator\'s counters (peak and settled) ÷ rmap items; workloads clones, unique, zeros, prefix, twins, fleet'),
    row('rmap items + stable nodes per tracked page, worst workload, measured', f['memory.recordBytesPerTrackedPage.max'], '≤ 40 B', (x) => x <= 40,
      (x) => `${round(x)} B`, 'memory suite: item-area and slab blocks ÷ rmap items (the narrower account of the issue: its records and item pointers; the kernel: 64 B per rmap_item and per stable_node)'),
  ];
}

/** Issue 10: ksmd's CPU to settle the fleet ÷ the engine's time to settle it with every core (the faster engine). */
function allCoresRow(f: Record<string, number>): Target {
  const kernel = f['fleet.kernel.settle.cpuMs'];
  const runs = Object.keys(f).filter((k) => /^shards(\.fingerprints)?\.\d+\.settleWallMs$/.test(k));
  const most = Math.max(...runs.map((k) => Number(/\.(\d+)\.settleWallMs$/.exec(k)![1])));
  const best = runs.filter((k) => k.endsWith(`.${most}.settleWallMs`)).sort((a, b) => f[a] - f[b])[0];
  const why = kernel === undefined ? 'fleet suite\'s ksmd run missing (kernel busy or not root?)' : 'shards suite (full run: the fleet\'s workload)';
  return row('fleet time to the settled state, ksmd CPU ÷ engine (all cores)', kernel !== undefined && best ? kernel / f[best] : undefined, '≥ 10×', (x) => x >= 10,
    (x) => `${round(x)}× (${round(kernel)} vs ${round(f[best])} ms, ${best.includes('fingerprints') ? 'fingerprints' : 'pages'}, ${most} threads)`, why);
}

/** The targets of issue 10: any host, on every core. */
function hostTargets(ctx: Context): Target[] {
  const f = ctx.figures;
  const pct = (x: number) => `${round(100 * x)} %`;
  const hostRun = f['host.sizeGiB'] === 64 ? 'host suite (run it with --only host)' : undefined;
  const hostWhy = f['host.sizeGiB'] === undefined ? 'host suite not run (it runs only when named: --only host)' : `host suite ran ${f['host.sizeGiB']} GiB, not 64 (quick run)`;
  const cores = Object.keys(f).map((k) => /^shards\.(\d+)\.speedup\.median$/.exec(k)?.[1]).filter(Boolean).map(Number);
  const most = cores.length ? Math.max(...cores) : undefined;
  const atLarge = (key: string): string => {
    const large = `${key}.large.${most}.speedup`;
    return f[`${large}.median`] === undefined ? '' : `; at 4× the fleet (1.3 GiB): ${round(f[`${large}.median`])}× (${round(f[`${large}.min`])}×–${round(f[`${large}.max`])}×)`;
  };
  return [
    row('64 GiB clones host, fingerprint mode, all cores: wall', hostRun && f['host.wallMs'], '< 60 s', (x) => x < 60_000, (x) => `${round(x / 1000)} s`, hostRun ?? hostWhy),
    row('64 GiB clones host: peak RSS', hostRun && f['host.maxRssBytes'], '< 2 GiB', (x) => x < 2 ** 31, (x) => `${round(x / 2 ** 30)} GiB`, hostRun ?? hostWhy),
    spreadRow('content shards: threads ÷ one thread, scanning to the settled state (page engine)', f, `shards.${most}.speedup`, '≥ 1.7×', (x) => x >= 1.7, (x) => `${round(x)}×`, `shards suite (the fleet: 325 MiB of cloned guests), ${most} threads: median (min–max) of its rounds${atLarge('shards')}`),
    spreadRow('content shards: threads ÷ one thread, scanning to the settled state (fingerprint engine)', f, `shards.fingerprints.${most}.speedup`, '≥ 1.7×', (x) => x >= 1.7, (x) => `${round(x)}×`, `shards suite (the fleet: 325 MiB of cloned guests), ${most} threads: median (min–max) of its rounds${atLarge('shards.fingerprints')}`),
    allCoresRow(f),
    spreadRow('fingerprinting vs the read-once floor, per core', f, 'modes.fingerprinting.overFloor', '≥ 60 %', (x) => x >= 0.6, pct, 'modes suite: floor ms ÷ fingerprinting ms over the same 256 MiB in place, interleaved runs'),
    row('fingerprint engine memory per page, worst input, measured', f['modes.fingerprints.bytesPerPage.max'], '≤ 48 B', (x) => x <= 48, (x) => `${round(x)} B`, 'modes suite: bytes in use from the fingerprint engine\'s allocator ÷ pages, loaded and after 3 full scans, cloned guests and all-unique pages'),
  ];
}

export function computeTargets(ctx: Context): Target[] {
  const f = ctx.figures;
  const t: Target[] = [];
  const times = (v: number) => `${round(v)}×`;

  // 1. Time to the settled merge state, against ksmd's CPU on the same images.
  const kernelSkipped = f['kernel.skipped'] === 1;
  for (const w of WORKLOADS) {
    const v = f[`kernel.${w}.settleOverEngine`];
    // The engine's side as the kernel suite measured it (its own run, beside the kernel's).
    const k = f[`kernel.${w}.settle.cpuMs`], e = f[`kernel.${w}.engine.settle.ms`];
    t.push(row(`time to the settled state, ksmd CPU ÷ engine — ${w}`, v, '≥ 10×', (x) => x >= 10,
      (x) => `${round(x)}× (${round(k)} vs ${round(e)} ms)`,
      kernelSkipped ? `kernel suite skipped: ${ctx.suites.kernel?.notes.find((n) => n.startsWith('KERNEL SUITE SKIPPED')) ?? 'see its notes'}`
        : v === undefined ? (ctx.quick && ctx.suites.kernel ? 'the quick run puts only cloned guests through the kernel' : 'kernel suite')
          : `kernel suite: ksmd CPU over passes 1..${f[`kernel.${w}.settledAt`]} ÷ engine time over passes 1..${f[`kernel.${w}.engine.settledAt`]}`));
  }

  const ks = WORKLOADS.map((w) => f[`kernel.${w}.settle.cpuMs`]), es = WORKLOADS.map((w) => f[`kernel.${w}.engine.settle.ms`]);
  if (ks.every((x) => x !== undefined) && es.every((x) => x !== undefined)) {
    const k = ks.reduce((a, b) => a + b, 0), e = es.reduce((a, b) => a + b, 0);
    t.push(row('time to the settled state, ksmd CPU ÷ engine — all four workloads', k / e, '≥ 10×', (x) => x >= 10,
      (x) => `${round(x)}× (${round(k)} vs ${round(e)} ms)`, 'sum of the four rows above'));
  }

  // 2. Whole scans against the reference.
  for (const w of WORKLOADS) {
    const a = f[`scans.${w}.wasm.total.ms`], b = f[`scans.${w}.reference.total.ms`];
    t.push(row(`whole scans, reference ÷ engine — ${w}`, a && b ? b / a : undefined, '≥ 5×', (x) => x >= 5, (x) => `${times(x)} (${round(b)} vs ${round(a)} ms)`,
      'scans suite: time of passes 1-5 (reference ÷ wasm), medians'));
  }

  // 3. Merge pass on cloned guests against the read-once floor.
  t.push(row('merge pass on cloned guests vs read-once floor (64 MiB)', f['scans.clones.mergeOverFloor'], '≥ 50 %', (x) => x >= 0.5,
    (x) => `${round(100 * x)} %`, 'scans suite: floor time ÷ pass-2 time, same pages, same memory'));
  const largest = f['scaling.largestMiB'];
  if (largest) {
    t.push(row(`merge pass on cloned guests vs read-once floor (${largest} MiB)`, f[`scaling.${largest}.mergeOverFloor`], '≥ 50 %', (x) => x >= 0.5,
      (x) => `${round(100 * x)} %`, 'scaling suite, largest size run'));
  }

  // 4. Copy-on-write breaks.
  const cow = (scenario: string, way: string, label: string, basis: string) => {
    const copy = f[`api.cow.${scenario}.copy.perSec`];
    t.push(row(`copy-on-write breaks per second — ${label}`, f[`api.cow.${scenario}.${way}.perSec`], '≥ 2 M/s', (x) => x >= 2e6,
      (x) => `${round(x / 1e6)} M/s (native 4 KiB copy: ${round(copy / 1e6)} M/s)`, basis));
  };
  cow('hot', 'byte', 'hot pages, one write call per break', 'api suite: 1-byte AddressSpace.write to each of 512 merged pages (2 MiB, in cache), repeated');
  cow('hot', 'span', 'hot pages, one call spanning 64 pages', 'api suite: whole-page writes of 64 merged pages per call');
  cow('cold', 'byte', 'cold pages (64 MiB), one write call per break', 'api suite: 1-byte write to each of 16384 merged pages, each copied from memory');

  // 5. Metadata: measured now, with issue 11's targets below.

  // 6. Reading live processes (issue 9).
  const mib = f['procread.mib'];
  t.push(row(`estimate --pid reading a ${mib ?? 4096} MiB process ÷ sequential /proc/PID/mem of the same ranges`, f['procread.ratio'], '≤ 2×', (x) => x <= 2,
    (x) => `${round(x)}× (${round(f['procread.pid.MiBps'])} vs ${round(f['procread.sequential.MiBps'])} MiB/s)`, 'procread suite: best of 2 each, walk included'));
  t.push(...fleetTargets(ctx));
  t.push(...hostTargets(ctx));
  return t;
}

export function printTargets(ctx: Context): void {
  const targets = computeTargets(ctx);
  ctx.targets.push(...targets);
  console.log(`\n━━ targets (issues 4, 10 and 11) ${'━'.repeat(64)}`);
  console.table(targets.map((x) => ({ target: x.target, measured: x.measured, goal: x.goal, result: x.result })));
  for (const x of targets) console.log(`${x.result.padEnd(14)}  ${x.target}: ${x.measured} (goal ${x.goal}) — ${x.basis}`);
}
