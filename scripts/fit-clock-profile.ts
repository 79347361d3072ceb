/**
 * Fits a clock profile from recorded runs of the real ksmd (tests/fixtures/kernel-clock/*.json,
 * made by tests/conformance/record-clock.ts) instead of measuring ksmd now: the runs at the knobs
 * `ksm-wasm calibrate` measures (100 pages / 20 ms and 20000 / 100), with the same fit; the runs
 * at the other knobs are held out, to check the profile on. Makes the shipped default profile;
 * prints the profile, or with --write puts it into src/estimate/default-profile.ts.
 *
 *   node --import tsx scripts/fit-clock-profile.ts [--write]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fitProfile, type ClockObservation } from '../src/calibrate/fit.js';
import { CALIBRATE_KNOBS, readRecorded, recordedObservations } from '../src/calibrate/recorded.js';

const DIR = new URL('../tests/fixtures/kernel-clock/', import.meta.url);

const observations: ClockObservation[] = [];
const sources: string[] = [];
let hz = 250;
for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()) {
  const fixture = readRecorded(new URL(file, DIR));
  if (typeof fixture.measured.hz === 'number') hz = fixture.measured.hz;
  sources.push(`${file} (${String(fixture.measured.date)}, load ${JSON.stringify(fixture.measured.load)})`);
  observations.push(...await recordedObservations(fixture, CALIBRATE_KNOBS));
}
const profile = fitProfile(observations, hz, {
  host: 'AMD EPYC x 2', kernel: '6.18.44-fc-v1045', date: new Date().toISOString(),
  command: 'node --import tsx scripts/fit-clock-profile.ts --write',
  how: `fitted as ksm-wasm calibrate fits, from the recorded free-running runs at ${CALIBRATE_KNOBS.join(' and ')} in ${sources.join(' and ')}; their runs at the other knobs were held out`,
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
