/**
 * The workloads' one generator (src/estimate/workloads.ts): gen.py's rounding, and the same
 * layout wherever a workload is made (the estimate's scenarios, the benches' guests).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { clones as benchClones, zeros as benchZeros } from '../bench/workloads.js';
import { SCENARIOS } from '../src/estimate/scenarios.js';
import { genClones, npages, pyRound, zerosPages } from '../src/estimate/workloads.js';

const test = suite('workloads');

test('page counts round as Python does (a half to the even neighbour), as gen.py\'s npages', () => {
  assert.equal([0.5, 1.5, 2.5, 3.5, -2.5, 6.15, 204.8].map(pyRound), [0, 2, 2, 4, -2, 6, 205]);
  assert.equal([npages(2048, 0.02), npages(2048, 1), npages(16, 0.02)], [41, 2048, 1]);
});

test('--scenario clones is gen.py\'s clones at scale 1: 205 zero and 307 dirty pages per guest', () => {
  const guests = SCENARIOS.clones.guests(1);
  assert.equal(guests.map((g) => g.pages), genClones(1));
  for (const [g, { pages }] of guests.entries()) {
    assert.is(pages.filter((p) => p === 'Z').length, 205);
    assert.is(pages.filter((p) => p.startsWith(`r:clones/g${g}/dirty/`)).length, 307);
  }
});

test('the benches\' clones at the oracle\'s size place zero, own and base pages as gen.py does', () => {
  const bench = benchClones(16384, 8);
  const oracle = genClones(1);
  for (let g = 0; g < 8; g++) {
    const kinds = Array.from({ length: 2048 }, (_, i) => {
      const spec = bench.page(g, i);
      return spec.kind === 'zero' ? 'Z' : spec.kind === 'random' && spec.stream === 1 ? `r:clones/base/${i}` : `r:clones/g${g}/dirty/${i}`;
    });
    assert.equal(kinds, oracle[g], `guest ${g}`);
  }
});

test('the benches\' zeros place zero pages as gen.py\'s zeros', () => {
  const bench = benchZeros(4 * 300, 4);
  const oracle = zerosPages('zeros', 4, 300, 0.6, (g) => [1, 'zeros', g]);
  for (let g = 0; g < 4; g++) {
    assert.equal(Array.from({ length: 300 }, (_, i) => bench.page(g, i).kind === 'zero'), oracle[g].map((p) => p === 'Z'));
    assert.is(oracle[g].filter((p) => p === 'Z').length, 180);
  }
});

test.run();
