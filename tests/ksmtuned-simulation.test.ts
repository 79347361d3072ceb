/**
 * ksmtuned over simulated time on a Ksm: while the guests' committed memory is small ksmd stays
 * off; as guests arrive, committed + thres passes MemTotal, ksmtuned starts ksmd, the savings
 * follow, free memory rises, and pages_to_scan decays once memory is no longer short.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, Ksmtuned } from '../src/index.js';
import { simulateKsmtuned } from '../src/estimate/policy.js';
import { randomPage } from './helpers/pages.js';

const PAGE = 4096;
const GUEST_PAGES = 256; // 1 MiB guests
const HOST_KB = 8 * 1024; // an 8 MiB host: thres = max(20% = 1638 kB, 2048 kB) = 2048 kB

/** A guest booted from one base image: the same pages as every other guest but one of its own. */
function guestImage(index: number): Uint8Array {
  const out = new Uint8Array(GUEST_PAGES * PAGE);
  for (let p = 0; p < GUEST_PAGES - 1; p++) out.set(randomPage(`base${p}`), p * PAGE);
  out.set(randomPage(`own${index}`), (GUEST_PAGES - 1) * PAGE);
  return out;
}

const test = suite('ksmtuned simulated over time');

for (const engine of ['wasm', 'reference'] as const) {
  test(`rising committed memory turns KSM on and the savings follow (${engine})`, async () => {
    let now = 0;
    const ksm = await Ksm.create({ engine, clock: () => now, maxMemory: 64 << 20 });
    const tuned = new Ksmtuned(HOST_KB, { KSM_SLEEP_MSEC: 1 }); // sleep 2 s here: 30 batches a minute
    assert.is(tuned.thresKb, 2048);
    const guests: number[] = [];
    const run = simulateKsmtuned(ksm, tuned, {
      hostKb: HOST_KB,
      committedKb: () => guests.length * GUEST_PAGES * 4,
      advance: (ms) => { now += ms; },
      stableIntervals: 3,
      maxIntervals: 40,
      beforeInterval: (i) => {
        if (guests.length < 7) { ksm.createSpace({ name: `vm${i}`, image: guestImage(i), mergeable: true }); guests.push(i); }
      },
    });
    const at = (minute: number) => run.intervals[minute - 1];
    const runs = run.intervals.map((r) => r.decision.run);
    // committed + thres (2048 kB) < MemTotal (8192 kB) with free > thres up to 5 guests: ksmd stays off.
    assert.equal(runs.slice(0, 5), [0, 0, 0, 0, 0], 'off while memory is plentiful');
    assert.equal(at(6).decision, { run: 1, reason: 'decay', pagesToScan: 64, sleepMillisecs: 2048, npages: 64 },
      '6 guests: committed + thres is MemTotal, not under it: ksmd starts; free is thres, not under it: decay to the minimum');
    assert.is(run.startedAtMs, 6 * 60000);
    assert.equal(at(7).decision, { run: 1, reason: 'boost', pagesToScan: 364, sleepMillisecs: 2048, npages: 364 }, '7 guests: free 1024 kB < thres: boost');
    assert.is(at(7).batches, 30, 'ksmd ran through the interval: a batch every 2 s (2048 ms in jiffies)');
    assert.is(at(7).savedBytes, 0, 'one interval of 64-page batches only took the checksums');
    assert.is(at(8).stats.pagesSharing, 6 * (GUEST_PAGES - 1), 'then every base page merged across the seven guests');
    assert.ok(at(8).freeKb > at(7).freeKb, 'free memory rose as pages merged');
    assert.equal(run.intervals.slice(7).map((r) => r.decision.reason).every((r) => r === 'decay'), true, 'memory no longer short: decay');
    const last = run.intervals[run.intervals.length - 1];
    assert.ok(run.settled, 'the simulation reached a state that cannot change');
    assert.is(last.decision.npages, 64, 'down to KSM_NPAGES_MIN, still running: committed + thres stays above MemTotal');
    assert.is(last.savedBytes, 6 * (GUEST_PAGES - 1) * PAGE);
    assert.ok(at(8).cpuMs > last.cpuMs && last.cpuMs > 0, 'ksmd\'s CPU falls as pages_to_scan decays, and stays above 0');
  });
}

test.run();
