/** How many shards a run gets: --threads, the default, and the runs that must be one shard. */
import { availableParallelism } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from '../src/cli/errors.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import type { ImageSource } from '../src/estimate/source.js';
import { MIN_DEFAULT_SHARD_PAGES, shardCount } from '../src/shards/choose.js';

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

test('--threads N is taken as given; the default is a shard per core, none under 64 MiB', () => {
  assert.is(shardCount(3, knobs, undefined, [source('a', 10)]), 3);
  assert.is(shardCount(undefined, knobs, undefined, [source('a', MIN_DEFAULT_SHARD_PAGES - 1)]), 1);
  assert.is(shardCount(undefined, knobs, undefined, [source('a', MIN_DEFAULT_SHARD_PAGES * 1000)]), Math.min(256, availableParallelism()));
  assert.is(shardCount(undefined, knobs, undefined, [source('a', MIN_DEFAULT_SHARD_PAGES), source('b', MIN_DEFAULT_SHARD_PAGES)]), Math.min(2, availableParallelism()));
});

test('the advisor, a policy, forks and huge pages run as one shard; an explicit --threads > 1 is refused', () => {
  const big = [source('a', MIN_DEFAULT_SHARD_PAGES * 8)];
  const parent = source('p', 100);
  assert.is(shardCount(undefined, scanTime, undefined, big), 1);
  assert.is(shardCount(1, scanTime, undefined, big), 1);
  assert.is(shardCount(undefined, knobs, 'ksmtuned', big), 1);
  refusal(() => shardCount(2, scanTime, undefined, big), /--threads 2: --advisor scan-time .* one shard/);
  refusal(() => shardCount(4, knobs, 'ksmtuned', big), /--threads 4: --policy ksmtuned .* one shard/);
  refusal(() => shardCount(2, knobs, undefined, [parent, source('c', 100, { forkOf: parent })]), /c shares frames with p after a fork/);
  refusal(() => shardCount(2, knobs, undefined, [source('h', 1024, { hugeSpans: [0] })]), /h has transparent huge pages/);
  assert.is(shardCount(undefined, knobs, undefined, [source('h', MIN_DEFAULT_SHARD_PAGES * 8, { hugeSpans: [0] })]), 1);
});

test.run();
