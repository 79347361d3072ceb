/**
 * Fits a clock profile from recorded runs of the real ksmd (tests/fixtures/kernel-clock/*.json,
 * made by tests/conformance/record-clock.ts) instead of measuring ksmd now: the runs at the knobs
 * `ksm-wasm calibrate` measures (100 pages / 20 ms and 20000 / 100), with the same fit. Used to
 * make the shipped default profile when ksmd could not be had for a calibrate run; prints the
 * profile, or with --write puts it into src/estimate/default-profile.ts.
 *
 *   node --import tsx scripts/fit-clock-profile.ts [--write]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fitProfile, type ClockObservation } from '../src/calibrate/fit.js';
import { engineWorks, median } from '../src/calibrate/measure.js';

const DIR = new URL('../tests/fixtures/kernel-clock/', import.meta.url);
const CALIBRATE_KNOBS = ['100/20', '20000/100'];

interface Run { knobs: { pages_to_scan: number; sleep_millisecs: number }; scans: Array<{ schedstat_cpu_ms: number }>; repeats: Array<Array<{ ms: number; run_delay_ms: number; schedstat_cpu_ms: number }>> }

const observations: ClockObservation[] = [];
const sources: string[] = [];
let hz = 250;
for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()) {
  const fixture = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as { scenario: string; measured: Record<string, unknown>; runs: Run[] };
  if (typeof fixture.measured.hz === 'number') hz = fixture.measured.hz;
  sources.push(`${file} (${String(fixture.measured.date)}, load ${JSON.stringify(fixture.measured.load)})`);
  for (const run of fixture.runs.filter((r) => CALIBRATE_KNOBS.includes(`${r.knobs.pages_to_scan}/${r.knobs.sleep_millisecs}`))) {
    observations.push({
      label: `${fixture.scenario} ${run.knobs.pages_to_scan}/${run.knobs.sleep_millisecs}`,
      knobs: run.knobs,
      works: await engineWorks(fixture.scenario, run.knobs, run.scans.length),
      kernel: run.scans.map((_, i) => ({ ms: median(run.repeats.map((r) => r[i].ms - r[i].run_delay_ms)), cpu_ms: median(run.repeats.map((r) => r[i].schedstat_cpu_ms)) })),
    });
  }
}
const profile = fitProfile(observations, hz, {
  host: 'AMD EPYC x 2', kernel: '6.18.44-fc-v1045', date: new Date().toISOString(),
  command: 'node --import tsx scripts/fit-clock-profile.ts --write',
  how: `fitted as ksm-wasm calibrate fits, from the recorded free-running runs at ${CALIBRATE_KNOBS.join(' and ')} in ${sources.join(' and ')}`,
});
const json = JSON.stringify(profile, null, 1);
if (process.argv.includes('--write')) {
  const path = new URL('../src/estimate/default-profile.ts', import.meta.url);
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf('export const DEFAULT_PROFILE');
  writeFileSync(path, `${text.slice(0, start)}export const DEFAULT_PROFILE: ClockProfile = ${json};\n`);
  console.error(`wrote ${path.pathname}`);
} else {
  console.log(json);
}
