/**
 * The headline targets of issue 4, each computed from figures measured in this run and printed as
 * a row with PASS or MISS (n/a when the suite it needs did not run, with the reason).
 */
import { round, type Context, type Target } from './lib.js';

const WORKLOADS = ['clones', 'unique', 'zeros', 'prefix'];

function row(target: string, value: number | undefined, goal: string, pass: (v: number) => boolean, show: (v: number) => string, basis: string): Target {
  if (value === undefined || !Number.isFinite(value)) return { target, measured: '–', goal, result: 'n/a', basis: `not measured in this run — ${basis}` };
  return { target, measured: show(value), goal, result: pass(value) ? 'PASS' : 'MISS', basis };
}

export function computeTargets(ctx: Context): Target[] {
  const f = ctx.figures;
  const t: Target[] = [];
  const times = (v: number) => `${round(v)}×`;

  // 1. Time to the settled merge state, against ksmd's CPU on the same images.
  const kernelSkipped = f['kernel.skipped'] === 1;
  for (const w of WORKLOADS) {
    const v = f[`kernel.${w}.settleOverEngine`];
    const k = f[`kernel.${w}.settle.cpuMs`], e = f[`scans.${w}.wasm.settle.ms`];
    t.push(row(`time to the settled state, ksmd CPU ÷ engine — ${w}`, v, '≥ 10×', (x) => x >= 10,
      (x) => `${round(x)}× (${round(k)} vs ${round(e)} ms)`,
      kernelSkipped ? `kernel suite skipped: ${ctx.suites.kernel?.notes.find((n) => n.startsWith('KERNEL SUITE SKIPPED')) ?? 'see its notes'}`
        : v === undefined ? (ctx.quick && ctx.suites.kernel ? 'the quick run puts only cloned guests through the kernel' : 'kernel suite')
          : `kernel suite: ksmd CPU over passes 1..${f[`kernel.${w}.settledAt`]} ÷ engine time over passes 1..${f[`scans.${w}.settledAt`]}`));
  }

  const ks = WORKLOADS.map((w) => f[`kernel.${w}.settle.cpuMs`]), es = WORKLOADS.map((w) => f[`scans.${w}.wasm.settle.ms`]);
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

  // 5. Metadata.
  t.push(row('metadata bytes per tracked page: the rmap item record', f['memory.rmapItemBytes'], '≤ 32', (x) => x <= 32,
    (x) => `${round(x)} B`, 'memory suite: record size (kernel: 64 B rmap_item)'));
  t.push(row('metadata bytes per tracked page: all records ÷ tracked pages, worst workload', f['memory.metadataBytesPerTrackedPage.max'], '≤ 32', (x) => x <= 32,
    (x) => `${round(x)} B`, 'memory suite: (rmap items + stable nodes + chains) × record size ÷ rmap items (kernel: 64 B each)'));

  // 6. Reading live processes (issue 9).
  const mib = f['procread.mib'];
  t.push(row(`estimate --pid reading a ${mib ?? 4096} MiB process ÷ sequential /proc/PID/mem of the same ranges`, f['procread.ratio'], '≤ 2×', (x) => x <= 2,
    (x) => `${round(x)}× (${round(f['procread.pid.MiBps'])} vs ${round(f['procread.sequential.MiBps'])} MiB/s)`, 'procread suite: best of 2 each, walk included'));
  return t;
}

export function printTargets(ctx: Context): void {
  const targets = computeTargets(ctx);
  ctx.targets.push(...targets);
  console.log(`\n━━ targets (issue 4) ${'━'.repeat(72)}`);
  console.table(targets.map((x) => ({ target: x.target, measured: x.measured, goal: x.goal, result: x.result })));
  for (const x of targets) console.log(`${x.result.padEnd(4)}  ${x.target}: ${x.measured} (goal ${x.goal}) — ${x.basis}`);
}
