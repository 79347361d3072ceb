/**
 * The coordinator's scan loop (src/shards/scan-shards.ts) with shards that keep their own pace:
 * scans are summed in order whatever the order of the reports, the shards are stopped once the
 * sums converge (a shard that ran ahead does not go on to max_scans), reports past that point are
 * dropped, and a shard's failure stops the others and is what the run rejects with.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngineCounters } from '../src/backend.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import { loadProfile } from '../src/estimate/profile.js';
import type { ShardScan } from '../src/shards/engine.js';
import type { ShardHost } from '../src/shards/host.js';
import { ScanReducer } from '../src/shards/reduce.js';
import { scanShards } from '../src/shards/scan-shards.js';
import { stopped } from '../src/shards/stop-flag.js';

const test = suite('scan-shards: shards at their own pace, summed in order');

/** A shard's counters after full scan `n`: `sharing(n)` pages merged, one page scanned per scan. */
function scanOf(n: number, sharing: number): ShardScan {
  const counters: EngineCounters = {
    pagesShared: sharing > 0 ? 1 : 0, pagesSharing: sharing, pagesUnshared: 0, rmapItems: 10, pagesScanned: 10 * n, pagesSkipped: 0,
    fullScans: n, stableNodeChains: 0, stableNodeDups: 0, ksmZeroPages: 0, cowKsm: 0,
  };
  return { counters, spaces: [], splitZeroPages: 0, wallMs: 0 };
}

interface FakeShard { host: ShardHost; ran: number }

/** A shard whose scan n takes `delayMs(n)` and merges `sharing(n)` pages; it fails at scan `failAt`. */
function fakeShard(delayMs: (n: number) => number, sharing: (n: number) => number, failAt = Infinity): FakeShard {
  const shard: FakeShard = {
    ran: 0,
    host: {
      write() { throw new Error('not used'); },
      writeRecords() { throw new Error('not used'); },
      async start() {},
      async runScans(maxScans, stop, onScan) {
        for (let n = 1; n <= maxScans && !stopped(stop); n++) {
          await sleep(delayMs(n));
          if (n === failAt) throw new Error(`shard failed at scan ${n}`);
          shard.ran = n;
          onScan(scanOf(n, sharing(n)));
        }
      },
      async close() {},
    },
  };
  return shard;
}

const reducer = () => new ScanReducer({ ...ESTIMATE_KNOB_DEFAULTS }, loadProfile(undefined));
/** Merges 3 pages at scan 2 and nothing after: with stable_scans 2 the sums converge at scan 4. */
const settlesAt2 = (n: number) => (n >= 2 ? 3 : 0);

test('a shard far ahead is summed in order and stopped at convergence, not at max_scans', async () => {
  const fast = fakeShard(() => 0, settlesAt2);
  const slow = fakeShard((n) => (n === 1 ? 30 : 2), settlesAt2);
  const r = reducer();
  await scanShards([fast.host, slow.host], r, { maxScans: 50, stableScans: 2 });
  assert.is(r.scans.length, 4, 'summed up to convergence only');
  assert.equal(r.scans.map((s) => s.fullScans), [1, 2, 3, 4]);
  assert.equal(r.scans.map((s) => s.pagesSharing), [0, 6, 6, 6], 'scan k is the sum of both shards\' scan k');
  assert.equal(r.scans.map((s) => s.pagesScanned), [20, 40, 60, 80]);
  assert.ok(fast.ran < 50, `the fast shard was stopped (it ran ${fast.ran} scans)`);
  assert.ok(fast.ran >= 4);
  assert.is(slow.ran, 4, 'the slow shard stopped as soon as its scan 4 was summed');
});

test('without convergence, exactly max_scans are summed', async () => {
  const shards = [fakeShard(() => 0, (n) => n), fakeShard(() => 1, (n) => n)];
  const r = reducer();
  await scanShards(shards.map((s) => s.host), r, { maxScans: 5, stableScans: 2 });
  assert.equal(r.scans.map((s) => s.pagesSharing), [2, 4, 6, 8, 10]);
  assert.equal(shards.map((s) => s.ran), [5, 5]);
});

test('every summed scan goes to onScan as it is summed, with cumulative wall_ms', async () => {
  const seen: number[] = [];
  const r = reducer();
  await scanShards([fakeShard(() => 3, settlesAt2).host], r, { maxScans: 9, stableScans: 2, onScan: (record) => seen.push(record.wallMs) });
  assert.is(seen.length, 4);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], 'wall_ms never goes back');
  assert.ok(seen[0] > 0);
});

test('a failing shard stops the others, and the run rejects with its error', async () => {
  const other = fakeShard(() => 2, (n) => n);
  const failing = fakeShard(() => 2, (n) => n, 3);
  const r = reducer();
  try {
    await scanShards([other.host, failing.host], r, { maxScans: 1000, stableScans: 2 });
    assert.unreachable('the run should have failed');
  } catch (error) {
    assert.instance(error, Error);
    assert.match((error as Error).message, 'shard failed at scan 3');
  }
  assert.ok(other.ran < 10, `the other shard stopped too (it ran ${other.ran} scans)`);
  assert.is(r.scans.length, 2, 'only the scans every shard reported were summed');
});

test.run();
