/**
 * Item areas (six blocks in a row, the rmap items of a leaf pair) and single blocks (frames, page
 * tables, slabs) serve each other under a tight memory cap: blocks freed by merges make an area
 * when they lie in a row, and an area freed by an exit goes back as blocks that frames can take.
 * (Until the free blocks kept a bitmap, neither was so: the scanner stopped with ENOMEM while most
 * of the memory was free.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, KsmError } from '../src/index.js';
import type { WasmBackend } from '../src/core.js';
import { randomPage } from './helpers/pages.js';

const CAP = 2 << 20;

/** Writes `page(i)` to pages from..to of `space` until the cap refuses one; returns how many went in. */
function fill(write: (i: number) => void, from: number, to: number): number {
  let i = from;
  try {
    for (; i < to; i++) write(i);
  } catch (error) {
    if (!(error instanceof KsmError) || error.code !== 'ENOMEM') throw error;
  }
  return i - from;
}

test('frames freed by merging make the item area of a leaf pair seen later', async () => {
  const ksm = await Ksm.create({ engine: 'wasm', debug: true, maxMemory: CAP, knobs: { pagesToScan: 10000 } });
  const memory = () => (ksm.backend as unknown as WasmBackend).engineMemory();
  const space = ksm.createSpace({ name: 's', pages: 1536 });
  const same = randomPage('A');
  space.write(0, same);
  space.mergeable();
  ksm.setKnob('run', 1);
  ksm.scanFull(1);
  const written = fill((i) => space.write(i, same), 1, 1024);
  assert.ok(written > 100 && written < 1023, `the cap stops the writes (${written} went in)`);
  space.dontneed(written - 9, 10);
  ksm.scanFull(2); // the copies merge: their frames go back
  const merged = memory();
  assert.ok(merged.blocksInUse < 40, `most blocks are free again (${merged.blocksInUse} in use)`);
  space.write(1024, randomPage('B')); // the second leaf pair's first page
  ksm.scanFull(2);
  assert.is(memory().itemAreaBytes, 2 * 6 * 4096, 'the second pair has its area');
  assert.ok(ksm.stats().pagesSharing > 100);
  ksm.close();
});

test('an item area freed by an exit goes back as blocks that frames take', async () => {
  const ksm = await Ksm.create({ engine: 'wasm', debug: true, maxMemory: CAP, knobs: { pagesToScan: 10000 } });
  const first = ksm.createSpace({ name: 'first', pages: 16 });
  for (let i = 0; i < 16; i++) first.write(i, randomPage(`x${i}`));
  first.mergeable();
  ksm.createSpace({ name: 'keep', pages: 1, mergeable: true });
  ksm.setKnob('run', 1);
  ksm.scanFull(1);
  const second = ksm.createSpace({ name: 'second', pages: 1024 });
  const before = fill((i) => second.write(i, randomPage(`y${i}`)), 0, 1024);
  assert.ok(before < 1024, 'the cap stops the writes');
  first.close();
  ksm.scanFull(2); // ksmd drops the exited space: its frames, tables and item area go back
  const after = fill((i) => second.write(i, randomPage(`z${i}`)), before, 1024);
  assert.ok(after >= 16 + 6, `its 16 frames and 6 area blocks take new pages (${after} did)`);
  ksm.close();
});

test.run();
