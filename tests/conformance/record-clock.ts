/**
 * Records the fixtures of tests/fixtures/kernel-clock/: the real ksmd free-running (src/kernel/free-run.ts)
 * on built-in scenarios at several knob settings, each run repeated, every full scan's wall time
 * and cumulative CPU; the median of the repeats is the fixture's figure, the repeats are kept too.
 * With several scenarios (comma-separated) the runs are interleaved, setting by setting and repeat
 * by repeat, so that every workload meets the same moments of a shared host (ksmd's CPU for the
 * same work moves by a third with the other load on it). Needs root and idle KSM; hold the
 * machine's KSM lock:
 *
 *   flock /tmp/ksm-kernel.lock node --import tsx tests/conformance/record-clock.ts clones,mixed [REPEATS] [SCANS] [OUTDIR]
 *
 * OUTDIR (default tests/fixtures/kernel-clock/) lets a fresh run be set beside the fixtures
 * rather than replace them.
 *
 * The settings whose runs take a second or less (big batches, where ksmd's CPU is the time) are
 * repeated at least FAST_REPEATS times: they are cheap, and the noisiest relative to their length.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, scenarioImages } from '../../src/calibrate/measure.js';
import { runFree, type FreeRunScan } from '../../src/kernel/free-run.js';

/** From small to large batches, short to long sleeps. */
const CLOCK_SETTINGS: ReadonlyArray<{ pages_to_scan: number; sleep_millisecs: number }> = [
  { pages_to_scan: 100, sleep_millisecs: 20 },
  { pages_to_scan: 50, sleep_millisecs: 5 },
  { pages_to_scan: 200, sleep_millisecs: 50 },
  { pages_to_scan: 1000, sleep_millisecs: 20 },
  { pages_to_scan: 5000, sleep_millisecs: 10 },
  { pages_to_scan: 20000, sleep_millisecs: 100 },
];
const FAST_BATCH = 5000;
const FAST_REPEATS = 5;

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

interface Recording { scenario: string; images: string[]; dir: string; runs: unknown[]; loads: number[] }

async function main(): Promise<void> {
  const [scenarioList = 'clones,mixed', repeatsText = '3', scansText = '4', outDir] = process.argv.slice(2);
  const repeats = Number(repeatsText);
  const scans = Number(scansText);
  const recordings: Recording[] = scenarioList.split(',').map((scenario) => ({ scenario, ...scenarioImages(scenario), runs: [], loads: [] }));
  try {
    for (const knobs of CLOCK_SETTINGS) {
      const times = knobs.pages_to_scan >= FAST_BATCH ? Math.max(repeats, FAST_REPEATS) : repeats;
      const reps = new Map<Recording, Array<{ scans: FreeRunScan[]; load: number }>>(recordings.map((rec) => [rec, []]));
      for (let r = 0; r < times; r++) {
        for (const rec of recordings) {
          const load = loadavg()[0];
          rec.loads.push(load);
          const run = await runFree(rec.images, { ...knobs, max_page_sharing: 256, use_zero_pages: 0, smart_scan: 1 }, { scans, timeoutMs: 600_000 });
          reps.get(rec)!.push({ scans: run.scans, load });
          console.error(`${rec.scenario} ${knobs.pages_to_scan}/${knobs.sleep_millisecs} #${r + 1} (load ${load.toFixed(2)}): ${run.scans.map((s) => `${r3(s.ms / 1000)} s ${Math.round(s.schedstat_cpu_ms)} ms (delay ${Math.round(s.run_delay_ms)})`).join(', ')}`);
        }
      }
      for (const rec of recordings) rec.runs.push(summarise(knobs, reps.get(rec)!));
    }
  } finally {
    for (const rec of recordings) rmSync(rec.dir, { recursive: true, force: true });
  }
  for (const rec of recordings) write(rec, scenarioList, repeats, scans, outDir);
}

/** A setting's runs: the median of each full scan's figures, and every repeat. */
function summarise(knobs: (typeof CLOCK_SETTINGS)[number], reps: Array<{ scans: FreeRunScan[]; load: number }>) {
  return {
    knobs,
    scans: reps[0].scans.map((s, i) => ({
      full_scans: s.full_scans, pages_scanned: s.pages_scanned,
      ms: r3(median(reps.map((rep) => rep.scans[i].ms))),
      cpu_ms: r3(median(reps.map((rep) => rep.scans[i].cpu_ms))),
      schedstat_cpu_ms: r3(median(reps.map((rep) => rep.scans[i].schedstat_cpu_ms))),
      run_delay_ms: r3(median(reps.map((rep) => rep.scans[i].run_delay_ms))),
    })),
    loads: reps.map((rep) => Math.round(rep.load * 100) / 100),
    repeats: reps.map((rep) => rep.scans.map((s) => ({ ms: r3(s.ms), cpu_ms: s.cpu_ms, schedstat_cpu_ms: r3(s.schedstat_cpu_ms), run_delay_ms: r3(s.run_delay_ms), pages_shared: s.pages_shared, pages_sharing: s.pages_sharing }))),
  };
}

function write(rec: Recording, scenarioList: string, repeats: number, scans: number, outDir: string | undefined): void {
  const out = outDir ? resolve(outDir, `${rec.scenario}.json`) : fileURLToPath(new URL(`../fixtures/kernel-clock/${rec.scenario}.json`, import.meta.url));
  mkdirSync(join(out, '..'), { recursive: true });
  const fixture = {
    scenario: rec.scenario,
    measured: {
      date: new Date().toISOString(), kernel: release(), cpu: `${cpus()[0]?.model} x ${cpus().length}`,
      how: `free-running ksmd (src/kernel/free-run.ts), ${repeats} runs per setting (at least ${FAST_REPEATS} at ${FAST_BATCH} pages a batch or more), ` +
        `interleaved with the other scenarios of the command, the median of each full scan's figures; ` +
        'time: wall ms from the write of run=1 to the poll (every 1 ms) that saw full_scans move; cpu_ms: /proc/<ksmd>/stat utime+stime since run=1; ' +
        'schedstat_cpu_ms: /proc/<ksmd>/schedstat sum_exec_runtime; run_delay_ms: schedstat run_delay (ksmd runnable, waiting for a CPU other work held). Other knobs: max_page_sharing 256, use_zero_pages 0, smart_scan 1. ' +
        'The machine was shared with other work (load average 1 min: min/median/max in load, each repeat\'s in its run\'s loads).',
      load: [Math.min(...rec.loads), median(rec.loads), Math.max(...rec.loads)].map((x) => Math.round(x * 100) / 100),
      command: `flock /tmp/ksm-kernel.lock node --import tsx tests/conformance/record-clock.ts ${scenarioList} ${repeats} ${scans}${outDir ? ' OUTDIR' : ''}`,
      hz: hz(),
    },
    runs: rec.runs,
  };
  writeFileSync(out, `${JSON.stringify(fixture, null, 1)}\n`);
  console.error(`wrote ${out}`);
}

/** CONFIG_HZ of the running kernel, if its config says. */
function hz(): number | null {
  for (const path of [`/boot/config-${release()}`, '/proc/config.gz']) {
    try {
      const text = path.endsWith('.gz') ? execSync(`zcat ${path}`, { encoding: 'utf8' }) : readFileSync(path, 'utf8');
      const m = /^CONFIG_HZ=(\d+)$/m.exec(text);
      if (m) return Number(m[1]);
    } catch { /* not there */ }
  }
  return null;
}

await main();
