/**
 * AddressSpace.grow (mremap growing a mapping in place), on every engine: the new pages are at the
 * end, mapped and absent, take writes and merge as any page; under setMergeAny(true) they are
 * mergeable at once; a bad size is refused and changes nothing. Content shards map each shard's
 * pages this way (src/shards/engine.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, KsmError, MAX_SPACE_PAGES } from '../src/index.js';
import { image, randomPage, zeroPage } from './helpers/pages.js';

const A = randomPage('grow-A');

for (const engine of ['wasm', 'fingerprints', 'reference'] as const) {
  const test = suite(`AddressSpace.grow (${engine})`);
  const fresh = () => Ksm.create({ engine, debug: engine !== 'fingerprints', maxMemory: 64 << 20, knobs: { pagesToScan: 10000 } });

  test('new pages at the end, across a page-table leaf, read as zeros, take writes and merge', async () => {
    const ksm = await fresh();
    const grown = ksm.createSpace({ name: 'grown', image: image([randomPage('own0'), randomPage('own1'), randomPage('own2')]) });
    const other = ksm.createSpace({ name: 'other', image: image([A]), mergeable: true });
    grown.grow(700);
    assert.is(grown.pages, 700);
    if (engine !== 'fingerprints') assert.equal(grown.read(650), zeroPage(), 'a new page is absent: zeros'); // (no page bytes kept there)
    assert.is(grown.pageInfo(650).mapping, 'absent');
    grown.write(600, A);
    grown.mergeable();
    ksm.setKnob('run', 1);
    const stats = ksm.scanFull(2);
    assert.is(stats.pagesSharing, 1, 'the grown page merged with its twin');
    assert.is(grown.pageInfo(600).mapping, 'ksm');
    assert.is(other.pageInfo(0).frame, grown.pageInfo(600).frame);
    if (engine !== 'fingerprints') assert.equal(grown.read(1), randomPage('own1'), 'the old pages are where they were');
    assert.is(grown.pageInfo(1).mapping, 'private');
    ksm.close();
  });

  test('under setMergeAny(true) the new pages are mergeable at once', async () => {
    const ksm = await fresh();
    const grown = ksm.createSpace({ name: 'grown', image: image([randomPage('own')]) });
    ksm.createSpace({ name: 'other', image: image([A]), mergeable: true });
    grown.setMergeAny(true);
    grown.grow(2);
    grown.write(1, A);
    ksm.setKnob('run', 1);
    assert.is(ksm.scanFull(2).pagesSharing, 1);
    assert.is(grown.pageInfo(1).mapping, 'ksm');
    ksm.close();
  });

  test('pages unmapped before a growth stay unmapped after it; the new ones are mapped', async () => {
    const ksm = await fresh();
    const space = ksm.createSpace({ name: 's', pages: 4 });
    space.unmap(1, 2);
    space.grow(600);
    assert.is(space.pageInfo(2).mapping, 'unmapped');
    assert.is(space.pageInfo(599).mapping, 'absent');
    try {
      space.write(1, A);
      assert.unreachable('a write to an unmapped page');
    } catch (error) {
      assert.is((error as KsmError).code, 'EFAULT');
    }
    space.write(599, A);
    assert.is(space.pageInfo(599).mapping, 'private');
    ksm.close();
  });

  test('a size not above the current one, or beyond MAX_SPACE_PAGES, is refused and changes nothing', async () => {
    const ksm = await fresh();
    const space = ksm.createSpace({ name: 's', pages: 10 });
    for (const bad of [10, 3, 10.5, MAX_SPACE_PAGES + 1, Number.NaN]) {
      try {
        space.grow(bad);
        assert.unreachable(`grow(${bad}) should be refused`);
      } catch (error) {
        assert.instance(error, KsmError);
        assert.is((error as KsmError).code, 'EINVAL');
        assert.match((error as Error).message, /grow on space "s": pages must be an integer above its 10/);
      }
    }
    assert.is(space.pages, 10);
    space.close();
    try {
      space.grow(20);
      assert.unreachable('grow on a closed space');
    } catch (error) {
      assert.instance(error, KsmError);
    }
    ksm.close();
  });

  test.run();
}
