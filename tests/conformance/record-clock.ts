/**
 * Records the fixtures of tests/fixtures/kernel-clock/: the real ksmd free-running (src/kernel/free-run.ts)
 * on a built-in scenario at several knob settings, each run repeated, every full scan's wall time
 * and cumulative CPU; the median of the repeats is the fixture's figure, the repeats are kept too.
 * Needs root and idle KSM; hold the machine's KSM lock:
 *
 *   flock /tmp/ksm-kernel.lock node --import tsx tests/conformance/record-clock.ts clones [REPEATS] [SCANS]
 */
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openScenario } from '../../src/estimate/scenarios.js';
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

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function writeImages(scenario: string, dir: string): string[] {
  return openScenario(scenario).map((source, g) => {
    const chunks: Uint8Array[] = [];
    source.read((chunk) => { chunks.push(chunk.slice()); });
    const path = join(dir, `${scenario}-g${g}.img`);
    writeFileSync(path, new Uint8Array(Buffer.concat(chunks)));
    return path;
  });
}

async function main(): Promise<void> {
  const [scenario = 'clones', repeatsText = '3', scansText = '4'] = process.argv.slice(2);
  const repeats = Number(repeatsText);
  const scans = Number(scansText);
  const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-clock-'));
  const runs = [];
  const loads: number[] = [];
  try {
    const images = writeImages(scenario, dir);
    for (const knobs of CLOCK_SETTINGS) {
      const reps: FreeRunScan[][] = [];
      for (let r = 0; r < repeats; r++) {
        loads.push(loadavg()[0]);
        const run = await runFree(images, { ...knobs, max_page_sharing: 256, use_zero_pages: 0, smart_scan: 1 }, { scans, timeoutMs: 600_000 });
        reps.push(run.scans);
        console.error(`${scenario} ${knobs.pages_to_scan}/${knobs.sleep_millisecs} #${r + 1}: ${run.scans.map((s) => `${r3(s.ms / 1000)} s ${s.cpu_ms} ms (delay ${Math.round(s.run_delay_ms)})`).join(', ')}`);
      }
      runs.push({
        knobs,
        scans: reps[0].map((s, i) => ({
          full_scans: s.full_scans, pages_scanned: s.pages_scanned,
          ms: r3(median(reps.map((rep) => rep[i].ms))),
          cpu_ms: r3(median(reps.map((rep) => rep[i].cpu_ms))),
          schedstat_cpu_ms: r3(median(reps.map((rep) => rep[i].schedstat_cpu_ms))),
          run_delay_ms: r3(median(reps.map((rep) => rep[i].run_delay_ms))),
        })),
        repeats: reps.map((rep) => rep.map((s) => ({ ms: r3(s.ms), cpu_ms: s.cpu_ms, schedstat_cpu_ms: r3(s.schedstat_cpu_ms), run_delay_ms: r3(s.run_delay_ms), pages_shared: s.pages_shared, pages_sharing: s.pages_sharing }))),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = fileURLToPath(new URL(`../fixtures/kernel-clock/${scenario}.json`, import.meta.url));
  mkdirSync(join(out, '..'), { recursive: true });
  const fixture = {
    scenario,
    measured: {
      date: new Date().toISOString(), kernel: release(), cpu: `${cpus()[0]?.model} x ${cpus().length}`,
      how: `free-running ksmd (src/kernel/free-run.ts), ${repeats} runs per setting, the median of each full scan's figures; ` +
        'time: wall ms from the write of run=1 to the poll (every 1 ms) that saw full_scans move; cpu_ms: /proc/<ksmd>/stat utime+stime since run=1; ' +
        'schedstat_cpu_ms: /proc/<ksmd>/schedstat sum_exec_runtime; run_delay_ms: schedstat run_delay (ksmd runnable, waiting for a CPU other work held). Other knobs: max_page_sharing 256, use_zero_pages 0, smart_scan 1. ' +
        'The machine was shared with other work (load average 1 min: min/median/max in load).',
      load: [Math.min(...loads), median(loads), Math.max(...loads)].map((x) => Math.round(x * 100) / 100),
      command: `flock /tmp/ksm-kernel.lock node --import tsx tests/conformance/record-clock.ts ${scenario} ${repeats} ${scans}`,
      hz: hz(),
    },
    runs,
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
