/**
 * The ksmtuned policy's decisions against the rules of its script and ksmtuned.conf, from the
 * documented defaults: the threshold, stop when memory is plentiful, boost, decay, clamping, and
 * the sleep scaled inversely to host memory with its 10 ms floor.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, KsmError, Ksmtuned, KSMTUNED_DEFAULTS } from '../src/index.js';

const GiB_KB = 1024 * 1024;
const test = suite('ksmtuned decisions');

function throwsKsm(fn: () => unknown, message: RegExp): void {
  try { fn(); } catch (error) {
    assert.instance(error, KsmError);
    assert.is((error as KsmError).code, 'EINVAL');
    assert.match((error as KsmError).message, message);
    return;
  }
  assert.unreachable('expected a KsmError');
}

test('the defaults are ksmtuned.conf\'s', () => {
  assert.equal({ ...KSMTUNED_DEFAULTS }, {
    KSM_MONITOR_INTERVAL: 60, KSM_SLEEP_MSEC: 10, KSM_NPAGES_BOOST: 300, KSM_NPAGES_DECAY: -50,
    KSM_NPAGES_MIN: 64, KSM_NPAGES_MAX: 1250, KSM_THRES_COEF: 20, KSM_THRES_CONST: 2048,
  });
  assert.is(new Ksmtuned(16 * GiB_KB).intervalMs, 60000);
});

test('threshold: KSM_THRES_COEF % of MemTotal, at least KSM_THRES_CONST kB', () => {
  assert.is(new Ksmtuned(16 * GiB_KB).thresKb, Math.floor(16 * GiB_KB * 0.2));
  assert.is(new Ksmtuned(10000).thresKb, 2048, '20% of 10000 kB is 2000: the constant wins');
  assert.is(new Ksmtuned(10241).thresKb, 2048);
  assert.is(new Ksmtuned(10245).thresKb, 2049, 'integer division, rounded down');
  assert.is(new Ksmtuned(1000000, { KSM_THRES_COEF: 50, KSM_THRES_CONST: 0 }).thresKb, 500000);
});

test('sleep: KSM_SLEEP_MSEC for 16 GiB, scaled inversely to MemTotal, never below 10 ms', () => {
  assert.is(new Ksmtuned(16 * GiB_KB).sleepMillisecs, 10);
  assert.is(new Ksmtuned(4 * GiB_KB).sleepMillisecs, 40);
  assert.is(new Ksmtuned(1 * GiB_KB).sleepMillisecs, 160);
  assert.is(new Ksmtuned(3 * GiB_KB).sleepMillisecs, 53, '160/3 rounded down');
  assert.is(new Ksmtuned(64 * GiB_KB).sleepMillisecs, 10, '2.5 ms is raised to the floor');
  assert.is(new Ksmtuned(8 * GiB_KB, { KSM_SLEEP_MSEC: 100 }).sleepMillisecs, 200);
  assert.is(new Ksmtuned(64 * GiB_KB, { KSM_SLEEP_MSEC: 1 }).sleepMillisecs, 10, 'the floor is 10 whatever KSM_SLEEP_MSEC');
});

test('stop while committed + thres < MemTotal and free > thres; start when either fails', () => {
  const total = 16 * GiB_KB;
  const tuned = new Ksmtuned(total);
  const thres = tuned.thresKb;
  assert.equal(tuned.adjust({ committedKb: total - thres - 1, freeKb: thres + 1 }), { run: 0, reason: 'plenty', npages: 0 });
  // committed + thres == total is not "less than": ksmd starts (free > thres: a decay from 0, clamped to the minimum).
  assert.equal(tuned.adjust({ committedKb: total - thres, freeKb: thres + 1 }), { run: 1, reason: 'decay', pagesToScan: 64, sleepMillisecs: 10, npages: 64 });
  // Little committed but free at the threshold: not plenty either; free == thres is no boost.
  assert.equal(tuned.adjust({ committedKb: 0, freeKb: thres }), { run: 1, reason: 'decay', pagesToScan: 64, sleepMillisecs: 10, npages: 64 });
  assert.equal(tuned.adjust({ committedKb: 0, freeKb: thres - 1 }), { run: 1, reason: 'boost', pagesToScan: 364, sleepMillisecs: 10, npages: 364 });
});

test('boost by KSM_NPAGES_BOOST up to KSM_NPAGES_MAX, decay by KSM_NPAGES_DECAY down to KSM_NPAGES_MIN; a stop keeps npages', () => {
  const total = 16 * GiB_KB;
  const tuned = new Ksmtuned(total);
  const short = { committedKb: total, freeKb: 0 };
  const easy = { committedKb: total, freeKb: total };
  const steps = [short, short, short, short, short, easy, easy].map((s) => tuned.adjust(s).npages);
  assert.equal(steps, [300, 600, 900, 1200, 1250, 1200, 1150]);
  assert.equal(tuned.adjust({ committedKb: 0, freeKb: total }), { run: 0, reason: 'plenty', npages: 1150 });
  assert.is(tuned.adjust(easy).npages, 1100, 'the next start decays from where it stopped');
  const low = new Ksmtuned(total);
  assert.equal([easy, easy, short].map((s) => low.adjust(s).npages), [64, 64, 364]);
});

test('apply writes pages_to_scan, sleep_millisecs and run to a Ksm; refused while the advisor owns pages_to_scan', async () => {
  const ksm = await Ksm.create({ engine: 'reference' });
  const tuned = new Ksmtuned(4 * GiB_KB);
  Ksmtuned.apply(ksm, tuned.adjust({ committedKb: 4 * GiB_KB, freeKb: 0 }));
  assert.equal([ksm.knobs.run, ksm.knobs.pagesToScan, ksm.knobs.sleepMillisecs], [1, 300, 40]);
  Ksmtuned.apply(ksm, tuned.adjust({ committedKb: 0, freeKb: 4 * GiB_KB }));
  assert.equal([ksm.knobs.run, ksm.knobs.pagesToScan], [0, 300]);
  ksm.setKnob('advisor_mode', 'scan-time');
  throwsKsm(() => Ksmtuned.apply(ksm, tuned.adjust({ committedKb: 4 * GiB_KB, freeKb: 0 })), /advisor_mode is scan-time/);
  assert.is(ksm.knobs.run, 0, 'nothing written');
});

test('bad parameters and figures: one clear error each', () => {
  throwsKsm(() => new Ksmtuned(0), /MemTotal must be a positive integer/);
  throwsKsm(() => new Ksmtuned(1024, { KSM_NPAGES_BOST: 1 } as never), /unknown parameter KSM_NPAGES_BOST/);
  throwsKsm(() => new Ksmtuned(1024, { KSM_NPAGES_MIN: 2000 }), /KSM_NPAGES_MIN 2000 is above KSM_NPAGES_MAX 1250/);
  throwsKsm(() => new Ksmtuned(1024, { KSM_THRES_COEF: -1 }), /KSM_THRES_COEF must be a non-negative integer/);
  throwsKsm(() => new Ksmtuned(1024, { KSM_MONITOR_INTERVAL: 0 }), /at least 1 second/);
  const tuned = new Ksmtuned(1024);
  throwsKsm(() => tuned.adjust({ committedKb: -1, freeKb: 0 }), /committedKb must be a non-negative integer/);
  throwsKsm(() => tuned.adjust({ committedKb: 0, freeKb: 1.5 }), /freeKb must be/);
  assert.is(tuned.npages, 0, 'nothing changed');
});

test.run();
