/**
 * The kernel's clock, predicted: for every recorded run of the real ksmd free-running
 * (tests/fixtures/kernel-clock/, made by tests/conformance/record-clock.ts), the engine runs the
 * same scenario at the same knobs and the shipped clock profile predicts each full scan's time
 * from run=1 and ksmd's cumulative CPU. Goals (DESIGN.md, estimate): time within 10 %, CPU
 * within 25 %, at every full scan of every run. Deterministic: no live timing here (the live
 * re-measurement is a report in `npm run bench`'s kernel suite).
 *
 * The shipped profile was fitted to the runs at 100 pages / 20 ms and 20000 / 100 (what
 * `ksm-wasm calibrate` measures); the other settings' runs were held out of the fit.
 *
 * The recorded time is the wall clock less ksmd's run_delay (the time it was runnable and waited
 * for a CPU held by other work: the recording host is shared, and ksmd runs at nice 5), the
 * median over the repeats of each run's difference; the
 * recorded CPU is schedstat's sum_exec_runtime, and utime+stime (the same CPU, in 10 ms ticks)
 * must agree with it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fitProfile, predict } from '../src/calibrate/fit.js';
import { engineWorks } from '../src/calibrate/measure.js';
import { DEFAULT_PROFILE } from '../src/estimate/default-profile.js';
import { parseProfile } from '../src/estimate/profile.js';
import { KernelClock } from '../src/estimate/timing.js';
import { CALIBRATE_KNOBS, recordedObservations, type RecordedFixture } from '../src/calibrate/recorded.js';

const DIR = new URL('./fixtures/kernel-clock/', import.meta.url);
const TIME_GOAL = 0.10;
const CPU_GOAL = 0.25;

interface FixtureScan { full_scans: number; pages_scanned: number; ms: number; cpu_ms: number; schedstat_cpu_ms: number; run_delay_ms: number }
interface Fixture extends RecordedFixture { runs: Array<Omit<RecordedFixture['runs'][number], 'scans'> & { scans: FixtureScan[] }> }

const fixtures: Fixture[] = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as Fixture);

const test = suite('estimate: the kernel\'s clock against recorded free-running ksmd');

test('the fixtures: at least two workloads, small to large batches, short to long sleeps', () => {
  assert.ok(new Set(fixtures.map((f) => f.scenario)).size >= 2, 'two workloads or more');
  const knobs = fixtures.flatMap((f) => f.runs.map((r) => r.knobs));
  assert.ok(Math.min(...knobs.map((k) => k.pages_to_scan)) <= 100 && Math.max(...knobs.map((k) => k.pages_to_scan)) >= 5000, 'batches from 100 pages or fewer to 5000 or more');
  assert.ok(Math.min(...knobs.map((k) => k.sleep_millisecs)) <= 10 && Math.max(...knobs.map((k) => k.sleep_millisecs)) >= 50, 'sleeps from 10 ms or less to 50 ms or more');
});

for (const fixture of fixtures) {
  for (const run of fixture.runs) {
    const { pages_to_scan: pts, sleep_millisecs: sleep } = run.knobs;
    test(`${fixture.scenario} at ${pts} pages / ${sleep} ms: every full scan's time within 10 %, ksmd's CPU within 25 %`, async () => {
      const [o] = await recordedObservations({ ...fixture, runs: [run] });
      const works = o.works;
      assert.equal(works.map((w, i) => w.processed + (works.slice(0, i).reduce((a, x) => a + x.processed, 0))), run.scans.map((s) => s.pages_scanned),
        'the engine processes the pages the kernel did, scan by scan');
      const predicted = predict(o, DEFAULT_PROFILE);
      const misses: string[] = [];
      o.kernel.forEach((k, i) => {
        const time = predicted[i].ms / k.ms - 1;
        const cpu = predicted[i].cpu_ms / k.cpu_ms - 1;
        if (Math.abs(time) > TIME_GOAL) misses.push(`scan ${i + 1} time: predicted ${predicted[i].ms.toFixed(0)} ms, kernel ${k.ms.toFixed(0)} ms (${pct(time)})`);
        if (Math.abs(cpu) > CPU_GOAL) misses.push(`scan ${i + 1} CPU: predicted ${predicted[i].cpu_ms.toFixed(1)} ms, kernel ${k.cpu_ms.toFixed(1)} ms (${pct(cpu)})`);
        const s = run.scans[i];
        assert.ok(Math.abs(s.cpu_ms - s.schedstat_cpu_ms) <= 10, `scan ${i + 1}: utime+stime ${s.cpu_ms} ms within a 10 ms tick of schedstat's ${s.schedstat_cpu_ms} ms`);
      });
      if (misses.length) assert.unreachable(misses.join('; '));
    });
  }
}

test('the shipped profile is the fit of the fixtures\' runs at calibrate\'s knobs (100/20, 20000/100) and of nothing else', async () => {
  const observations = (await Promise.all(fixtures.map((f) => recordedObservations(f, CALIBRATE_KNOBS)))).flat();
  const refit = fitProfile(observations, DEFAULT_PROFILE.hz, {});
  assert.equal({ cpuUs: refit.cpuUs, extraTicks: refit.extraTicks, wakeMs: refit.wakeMs },
    { cpuUs: DEFAULT_PROFILE.cpuUs, extraTicks: DEFAULT_PROFILE.extraTicks, wakeMs: DEFAULT_PROFILE.wakeMs },
    'node --import tsx scripts/fit-clock-profile.ts --write makes it again');
});

/**
 * Live `ksm-wasm calibrate --repeats 3` runs of other sessions (each profile keeps what it
 * measured). On this shared host ksmd's CPU for the same work moves by up to a third from one
 * session to another (docs/clock.md), so the shipped profile's CPU costs are not held to them;
 * what is: the clock (sleeps as ticks, the extra tick, the wake-up) fed each scan's measured CPU
 * must give each scan's time within 10 %, though its timer figures were fitted elsewhere; and
 * calibrate's fit of that session's own measurements must meet the goals on them.
 */
const CALIBRATED = new URL('./fixtures/kernel-clock-calibrate/', import.meta.url);
for (const file of readdirSync(CALIBRATED).filter((f) => f.endsWith('.json')).sort()) {
  const { measured, hz } = parseProfile(readFileSync(new URL(file, CALIBRATED), 'utf8'), file);
  const observations = measured.observations as Array<{ run: string; knobs: Fixture['runs'][number]['knobs']; kernel: Array<{ ms: number; cpu_ms: number }> }>;
  const withWorks = () => Promise.all(observations.map(async (o) => ({ label: o.run, knobs: o.knobs, kernel: o.kernel, works: await engineWorks(o.run.split(' ')[0], o.knobs, o.kernel.length) })));
  test(`${file} (a calibrate run of another session): the shipped clock, fed the measured CPU, within 10 % on time at every full scan`, async () => {
    const misses: string[] = [];
    for (const o of await withWorks()) {
      const clock = new KernelClock(DEFAULT_PROFILE, o.knobs.sleep_millisecs);
      o.works.forEach((w, i) => {
        const time = clock.scan(w.batches, o.kernel[i].cpu_ms - (o.kernel[i - 1]?.cpu_ms ?? 0)) / o.kernel[i].ms - 1;
        if (Math.abs(time) > TIME_GOAL) misses.push(`${o.label} scan ${i + 1} time ${pct(time)}`);
      });
    }
    if (misses.length) assert.unreachable(misses.join('; '));
  });
  test(`${file}: calibrate's fit of its own measurements meets the goals on them (10 % time, 25 % CPU)`, async () => {
    const obs = await withWorks();
    const profile = fitProfile(obs, hz, {});
    const misses: string[] = [];
    for (const o of obs) {
      predict(o, profile).forEach((p, i) => {
        const time = p.ms / o.kernel[i].ms - 1;
        const cpu = p.cpu_ms / o.kernel[i].cpu_ms - 1;
        if (Math.abs(time) > TIME_GOAL) misses.push(`${o.label} scan ${i + 1} time ${pct(time)}`);
        if (Math.abs(cpu) > CPU_GOAL) misses.push(`${o.label} scan ${i + 1} CPU ${pct(cpu)}`);
      });
    }
    if (misses.length) assert.unreachable(misses.join('; '));
  });
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

test.run();
