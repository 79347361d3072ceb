/**
 * The frame index the page-map walk and the fork placement keep what they learn of a frame in:
 * both ways of building it (a bitmap with a rank, and a sort with a binary search) give the
 * distinct frames ascending and each frame its position among them, for any frame numbers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { indexFrames } from '../src/estimate/proc/frame-index.js';

/** What the index must say, computed the plain way. */
function expected(lists: number[][]): number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

function check(lists: number[][], wordsPerFrame?: number): void {
  const index = indexFrames(lists.map((l) => Float64Array.from(l)), wordsPerFrame);
  const want = expected(lists);
  assert.equal(Array.from(index.ascending), want);
  for (const list of lists) for (const pfn of list) assert.is(index.positionOf(pfn), want.indexOf(pfn), `position of frame ${pfn}`);
}

const frames = fc.array(fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 22 })), { maxLength: 60 }), { maxLength: 4 });

test('bitmap and rank: random frames, repeated across lists, at every bit of a word', () => {
  fc.assert(fc.property(frames, (lists) => check(lists, Infinity)), { numRuns: 300 });
  check([[0, 31, 32, 63, 64, 31, 0], [95, 96, 2 ** 30 - 1]], Infinity);
});

test('sort and binary search (frames too few for a bitmap of their range): the same answers', () => {
  fc.assert(fc.property(frames, (lists) => check(lists, 0)), { numRuns: 300 });
  check([[2 ** 40 + 5, 2 ** 40, 7, 2 ** 40 + 5]]);
});

test('no frames at all: an empty index, and no bitmap sized by a frame number of -1', () => {
  const before = process.memoryUsage().arrayBuffers;
  const empty = indexFrames([new Float64Array(0)]);
  assert.is(empty.ascending.length, 0);
  assert.ok(process.memoryUsage().arrayBuffers - before < 2 ** 20, 'it holds less than 1 MiB'); // (-1 >>> 5) words would be 512 MiB
  assert.is(indexFrames([], 0).ascending.length, 0);
});

test('a few frames at high numbers: no bitmap of their range (the default way by density)', () => {
  const before = process.memoryUsage().arrayBuffers;
  const index = indexFrames([Float64Array.from([3, 2 ** 29, 2 ** 30 - 1])]);
  assert.equal(Array.from(index.ascending), [3, 2 ** 29, 2 ** 30 - 1]);
  assert.is(index.positionOf(2 ** 29), 1);
  assert.ok(process.memoryUsage().arrayBuffers - before < 2 ** 20, 'it holds less than 1 MiB'); // a bitmap of 2^30 bits would be 256 MiB with its counts
});

test.run();
