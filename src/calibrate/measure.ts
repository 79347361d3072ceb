/**
 * Measuring this host's ksmd for a clock profile: a built-in scenario's guests run through the
 * real ksmd free-running (src/kernel/free-run.ts) at some knobs, and the same scenario through the
 * engine at the same knobs, so each full scan pairs the work the engine counted with the wall time
 * and CPU the kernel took. Repeats are reduced to their median, scan by scan. The wall time is
 * taken less ksmd's run_delay (runnable, waiting for a CPU other work held), so that a profile
 * measured on a shared host still describes the host, not its load at that moment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFree, type FreeRunScan } from '../kernel/free-run.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../estimate/knobs.js';
import { runEstimate } from '../estimate/run.js';
import { openScenario } from '../estimate/scenarios.js';
import type { ClockObservation } from './fit.js';

export interface ClockSetting { pages_to_scan: number; sleep_millisecs: number }

/**
 * What calibrate measures: the timer and the cost of a batch at the kernel's default batch (100
 * pages / 20 ms), the costs per page at one batch per full scan (20000 / 100).
 */
export const CALIBRATE_SETTINGS: readonly ClockSetting[] = [{ pages_to_scan: 100, sleep_millisecs: 20 }, { pages_to_scan: 20000, sleep_millisecs: 100 }];

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The scenario's guests as image files in a new private directory (removed by the caller). */
export function scenarioImages(scenario: string): { dir: string; images: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-clock-'));
  const images = openScenario(scenario).map((source, g) => {
    const chunks: Uint8Array[] = [];
    source.read((chunk) => { chunks.push(chunk.slice()); });
    const path = join(dir, `${scenario}-g${g}.img`);
    writeFileSync(path, new Uint8Array(Buffer.concat(chunks)));
    return path;
  });
  return { dir, images };
}

/** The engine's work per full scan on a scenario at some knobs. */
export async function engineWorks(scenario: string, knobs: ClockSetting, scans: number) {
  const run = await runEstimate(openScenario(scenario), {
    knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: knobs.pages_to_scan, sleepMillisecs: knobs.sleep_millisecs },
    maxScans: scans, stableScans: 100000,
  });
  return run.scans.map((s) => s.work);
}

/**
 * The kernel's runs of some scenarios at each setting, `repeats` times each, then the engine's.
 * The scenarios take turns, setting by setting and repeat by repeat: on a shared host ksmd's CPU
 * for the same work moves by a third from one moment to another, and the fit needs every workload
 * measured at the same moments (docs/clock.md).
 */
export async function measureScenarios(scenarios: readonly string[], settings: readonly ClockSetting[], repeats: number, scans: number,
  progress: (line: string) => void): Promise<ClockObservation[]> {
  const made: Array<{ dir: string; images: string[] }> = [];
  const runs = new Map<string, FreeRunScan[][]>();
  try {
    for (const scenario of scenarios) made.push(scenarioImages(scenario));
    for (const knobs of settings) {
      for (let r = 0; r < repeats; r++) {
        for (const [k, scenario] of scenarios.entries()) {
          const run = await runFree(made[k].images, { ...knobs, max_page_sharing: 256, use_zero_pages: 0, smart_scan: 1 }, { scans, timeoutMs: 600_000 });
          const key = `${scenario} ${knobs.pages_to_scan}/${knobs.sleep_millisecs}`;
          runs.set(key, [...(runs.get(key) ?? []), run.scans]);
          progress(`${scenario} ${knobs.pages_to_scan} pages / ${knobs.sleep_millisecs} ms, run ${r + 1}: ` +
            run.scans.map((s) => `${(s.ms / 1000).toFixed(2)} s ${Math.round(s.schedstat_cpu_ms)} ms CPU`).join(', '));
        }
      }
    }
  } finally {
    for (const { dir } of made) rmSync(dir, { recursive: true, force: true });
  }
  const out: ClockObservation[] = [];
  for (const scenario of scenarios) {
    for (const knobs of settings) {
      const label = `${scenario} ${knobs.pages_to_scan}/${knobs.sleep_millisecs}`;
      const these = runs.get(label)!;
      out.push({
        label, knobs, works: await engineWorks(scenario, knobs, scans),
        // The wall clock less the time ksmd waited for a CPU that other work held: this host's ksmd
        // as it runs when the host is not busy with something else.
        kernel: these[0].map((_, i) => ({ ms: median(these.map((s) => s[i].ms - s[i].run_delay_ms)), cpu_ms: median(these.map((s) => s[i].schedstat_cpu_ms)) })),
      });
    }
  }
  return out;
}
