/** The scan-time advisor (ksm-model §4), computed by hand, and as the driver applies it. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adviseScanTime, initialAdvisorState } from '../src/advisor.js';
import { Ksm } from '../src/index.js';
import { fillPage } from './helpers/pages.js';

const test = suite('scan-time advisor');
const bounds = { maxCpu: 70, maxPagesToScan: 30000, targetScanTime: 200 };

test('with a constant scan time the damped change settles at 97, as the integer EWMA does', () => {
  const state = initialAdvisorState();
  const seen: number[] = [];
  for (let i = 0; i < 12; i++) {
    adviseScanTime(state, { pagesToScan: 1000, scanMillis: 5000, cpuMsTotal: 100 * (i + 1), ...bounds });
    seen.push(state.change);
  }
  assert.equal(seen, [30, 51, 65, 75, 82, 87, 90, 93, 95, 96, 97, 97]);
});

test('a fast scan is held at the 10% CPU floor', () => {
  // T = 1 s, 100 ms CPU: 10%; factor 20000; p = 500*100/20000*30/100 = 0; floor = (500/10)*10 = 500.
  const p = adviseScanTime(initialAdvisorState(), { pagesToScan: 500, scanMillis: 1500, cpuMsTotal: 100, ...bounds });
  assert.is(p, 500);
});

test('a slow scan grows the batch, within max_cpu and advisor_max_pages_to_scan', () => {
  // T = 400 s, 4 s CPU: pct 1; factor 50; p = 1000*100/50 = 2000, *30/100 = 600; ppc 1000: max(600, 10000) = 10000.
  assert.is(adviseScanTime(initialAdvisorState(), { pagesToScan: 1000, scanMillis: 400_000, cpuMsTotal: 4000, ...bounds }), 10000);
  assert.is(adviseScanTime(initialAdvisorState(), { pagesToScan: 5000, scanMillis: 400_000, cpuMsTotal: 4000, ...bounds }), 30000, 'capped');
});

test('the driver applies it after each full scan, from advisor_min_pages_to_scan', async () => {
  const times = [0, 400_000];
  const ksm = await Ksm.create({ clock: () => times.shift() ?? 400_000, cpuClock: () => 4000 });
  for (const name of ['a', 'b']) ksm.createSpace({ name, image: fillPage(1), mergeable: true });
  ksm.setKnob('advisor_mode', 'scan-time');
  assert.is(ksm.knobs.pagesToScan, 500, 'scan-time starts at advisor_min_pages_to_scan');
  ksm.setKnob('run', 1);
  ksm.scan(); // one whole pass: it starts at 0 ms and ends at 400 s
  // pct 1, factor 50: p = 500*100/50*30/100 = 300; ppc 500: max(300, 5000) = 5000.
  assert.is(ksm.knobs.pagesToScan, 5000);
  ksm.setKnob('advisor_mode', 'none');
  assert.is(ksm.knobs.pagesToScan, 100, 'back to the default');
});

test.run();
