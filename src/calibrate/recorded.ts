/**
 * Recorded runs of the real ksmd (the fixtures tests/conformance/record-clock.ts writes) as clock
 * observations: each run's engine work per full scan beside the kernel's figures, the median over
 * its repeats of the wall time less run_delay, and of schedstat's CPU. The shipped profile is
 * fitted from these (scripts/fit-clock-profile.ts), and the clock test checks that it was.
 */
import { readFileSync } from 'node:fs';
import type { ClockObservation } from './fit.js';
import { CALIBRATE_SETTINGS, engineWorks, median } from './measure.js';

export interface RecordedRun {
  knobs: { pages_to_scan: number; sleep_millisecs: number };
  scans: Array<{ schedstat_cpu_ms: number }>;
  repeats: Array<Array<{ ms: number; run_delay_ms: number; schedstat_cpu_ms: number }>>;
}
export interface RecordedFixture { scenario: string; measured: Record<string, unknown>; runs: RecordedRun[] }

/** The knobs of calibrate's runs, as "pages/ms". */
export const CALIBRATE_KNOBS = CALIBRATE_SETTINGS.map((s) => `${s.pages_to_scan}/${s.sleep_millisecs}`);

export const readRecorded = (path: string | URL): RecordedFixture => JSON.parse(readFileSync(path, 'utf8')) as RecordedFixture;

/** The runs of a fixture at the given knobs ("pages/ms"; all of them if none given), as observations. */
export async function recordedObservations(fixture: RecordedFixture, knobs?: readonly string[]): Promise<ClockObservation[]> {
  const out: ClockObservation[] = [];
  for (const run of fixture.runs) {
    const label = `${run.knobs.pages_to_scan}/${run.knobs.sleep_millisecs}`;
    if (knobs && !knobs.includes(label)) continue;
    out.push({
      label: `${fixture.scenario} ${label}`,
      knobs: run.knobs,
      works: await engineWorks(fixture.scenario, run.knobs, run.scans.length),
      kernel: run.scans.map((_, i) => ({
        ms: median(run.repeats.map((r) => r[i].ms - r[i].run_delay_ms)),
        cpu_ms: median(run.repeats.map((r) => r[i].schedstat_cpu_ms)),
      })),
    });
  }
  return out;
}
