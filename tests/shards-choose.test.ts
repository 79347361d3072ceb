/** How many shards a run gets: --threads, the default, and the runs that must be one shard. */
import { availableParallelism } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from '../src/cli/errors.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import type { ImageSource } from '../src/estimate/source.js';
import { MAX_THREADS, MIN_DEFAULT_SHARD_PAGES, SHARD_FILL, shardCount } from '../src/shards/choose.js';
import { engineCapacity } from '../src/cli/memory.js';
import { checkShardFits } from '../src/shards/run-shard.js';

const source = (name: string, pages: number, extra: Partial<ImageSource> = {}): ImageSource => ({ name, pages, read: () => undefined, ...extra });
const knobs = ESTIMATE_KNOB_DEFAULTS;
const scanTime = { ...ESTIMATE_KNOB_DEFAULTS, advisorMode: 'scan-time' as const };

function refusal(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, CliError);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable('expected a refusal');
}

const test = suite('shard count');

test('--threads N is taken as given; the default is a shard per core, none under 1 GiB', () => {
  assert.is(shardCount(3, knobs, undefined, [source('a', 10)], 'fingerprints'), 3);
  assert.is(shardCount(undefined, knobs, undefined, [source('a', MIN_DEFAULT_SHARD_PAGES - 1)], 'fingerprints'), 1);
  // 40 GiB: one fingerprint engine would hold it, so the cores decide.
  assert.is(shardCount(undefined, knobs, undefined, [source('a', MIN_DEFAULT_SHARD_PAGES * 40)], 'fingerprints'), Math.min(40, availableParallelism()));
  assert.is(shardCount(undefined, knobs, undefined, [source('a', MIN_DEFAULT_SHARD_PAGES), source('b', MIN_DEFAULT_SHARD_PAGES)], 'fingerprints'), Math.min(2, availableParallelism()));
});

test('the advisor, a policy, forks and huge pages run as one shard; an explicit --threads > 1 is refused', () => {
  const big = [source('a', MIN_DEFAULT_SHARD_PAGES * 8)];
  const parent = source('p', 100);
  assert.is(shardCount(undefined, scanTime, undefined, big, 'fingerprints'), 1);
  assert.is(shardCount(1, scanTime, undefined, big, 'fingerprints'), 1);
  assert.is(shardCount(undefined, knobs, 'ksmtuned', big, 'fingerprints'), 1);
  refusal(() => shardCount(2, scanTime, undefined, big, 'fingerprints'), /--threads 2: --advisor scan-time .* one shard/);
  refusal(() => shardCount(4, knobs, 'ksmtuned', big, 'fingerprints'), /--threads 4: --policy ksmtuned .* one shard/);
  refusal(() => shardCount(2, knobs, undefined, [parent, source('c', 100, { forkOf: parent })], 'fingerprints'), /c shares frames with p after a fork/);
  refusal(() => shardCount(2, knobs, undefined, [source('h', 1024, { hugeSpans: [0] })], 'fingerprints'), /h has transparent huge pages/);
  assert.is(shardCount(undefined, knobs, undefined, [source('h', MIN_DEFAULT_SHARD_PAGES * 8, { hugeSpans: [0] })], 'fingerprints'), 1);
});

test('by default, as many shards as the inputs need beyond the cores: engines filled to SHARD_FILL', () => {
  const capacity = engineCapacity('fingerprints');
  assert.is(capacity, 16777197, 'one fingerprint engine: 2^24 frames, less the reserved ones');
  const host = (pages: number) => [source('host', pages)];
  const cores = Math.min(MAX_THREADS, availableParallelism());
  // 128 GiB of pages: 2 engines would hold them only filled to the brim; 3 at three quarters.
  const big = 33554432;
  assert.is(shardCount(undefined, knobs, undefined, host(big), 'fingerprints'), Math.max(cores, Math.ceil(big / Math.floor(capacity * SHARD_FILL))));
  assert.ok(shardCount(undefined, knobs, undefined, host(big), 'fingerprints') >= 3);
  // The page engine holds far fewer pages: 8 GiB of them need 11 of its engines at three quarters.
  const eight = 2097152;
  assert.is(shardCount(undefined, knobs, undefined, host(eight), 'wasm'), Math.max(cores, Math.ceil(eight / Math.floor(engineCapacity('wasm') * SHARD_FILL))));
  // Within the cores' shards, nothing changes.
  assert.is(shardCount(undefined, knobs, undefined, host(MIN_DEFAULT_SHARD_PAGES * 2), 'fingerprints'), Math.min(2, cores));
});

test('an explicit --threads too small to hold the inputs is refused before anything is read', () => {
  const capacity = engineCapacity('fingerprints');
  const host = [source('host', 2 * capacity + 1)];
  refusal(() => shardCount(2, knobs, undefined, host, 'fingerprints'), /--threads 2: 128(\.0)? GiB of pages need at least 3 shards \(one fingerprint engine holds 16777197 pages\); give --threads 3 or leave it out/);
  assert.is(shardCount(3, knobs, undefined, host, 'fingerprints'), 3, 'engines filled to the brim are allowed when asked for');
  refusal(() => shardCount(1, knobs, undefined, [source('a', engineCapacity('wasm') + 1)], 'wasm'), /--threads 1: .* need at least 2 shards \(one page engine holds 1006104 pages\)/);
});

test('estimate --from: a shard job with more pages than its engine holds is refused before loading, with the K that would do', () => {
  const capacity = engineCapacity('fingerprints');
  checkShardFits(capacity, { index: 0, count: 1 }, 'fingerprints');
  checkShardFits(capacity, { index: 3, count: 4 }, 'fingerprints');
  refusal(() => checkShardFits(capacity + 1, { index: 1, count: 2 }, 'fingerprints'), /^--shard 1\/2 holds 16777198 pages \(64\.0 GiB\), more than one fingerprint engine holds \(16777197\): split the run into more shards/);
  refusal(() => checkShardFits(2 * capacity, { index: 0, count: 1 }, 'fingerprints'), /^the inputs hold 33554394 pages .*: run them as shards: --shard I\/3 for I from 0, then ksm-wasm merge$/);
  refusal(() => checkShardFits(engineCapacity('wasm') + 1, { index: 0, count: 1 }, 'wasm'), /more than one page engine holds \(1006104\)/);
});

test('more shards than MAX_THREADS are refused with the way out', () => {
  refusal(() => shardCount(undefined, knobs, undefined, [source('huge', 300 * engineCapacity('fingerprints'))], 'fingerprints'), /need \d+ shards of the fingerprint engine, more than 256; .*ksm-wasm fingerprint/);
});

test.run();
