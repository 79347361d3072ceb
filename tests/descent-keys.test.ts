/**
 * A page's descents take its key (first 4 bytes) from its rmap item while the page is unwritten
 * since its checksum was taken (ITEM_CLEAN), and from the page after a write. These pages
 * are rewritten with contents whose key differs from the old one: with the old key the descents
 * would miss their twin. And a descent passes a clean unstable node by its key without looking at
 * its page-table entry only while no entry was lost in the pass: a node whose page went mid-pass
 * still makes the descent give up, as the kernel's does when it cannot get the node's page.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm } from '../src/index.js';
import { image, randomPage } from './helpers/pages.js';

const OLD = randomPage('old contents');
const TWIN = randomPage('the twin');

async function keyedPage(engine: 'wasm' | 'reference', others: Uint8Array[]) {
  const ksm = await Ksm.create({ engine, debug: true, maxMemory: 16 << 20, knobs: { pagesToScan: 10000, smartScan: 0 } }); // no smart_scan skips: every pass visits the page
  const writer = ksm.createSpace({ name: 'writer', image: image([OLD]), mergeable: true });
  const other = ksm.createSpace({ name: 'other', image: image(others), mergeable: true });
  ksm.setKnob('run', 1);
  ksm.scanFull(3); // page 0 of writer went into the unstable tree in passes 2 and 3, keyed
  assert.is(writer.pageInfo(0).item, 'unstable', 'the writer\'s page is in the unstable tree');
  return { ksm, writer, other };
}

for (const engine of ['wasm', 'reference'] as const) {
  const test = suite(`descents by key (${engine})`);

  test('the old key first differs from the new one', () => {
    assert.not.equal(OLD.subarray(0, 4), TWIN.subarray(0, 4));
  });

  test('rewritten to a KSM page\'s contents: it merges into the stable tree', async () => {
    const { ksm, writer } = await keyedPage(engine, [TWIN, TWIN]);
    assert.is(ksm.stats().pagesSharing, 1, 'the twins merged');
    writer.write(0, TWIN);
    ksm.scanFull(2); // the checksum changed, then it held
    assert.is(writer.pageInfo(0).mapping, 'ksm');
    assert.is(ksm.stats().pagesSharing, 2);
  });

  test('rewritten to an unmerged page\'s contents: they merge through the unstable tree', async () => {
    const { ksm, writer, other } = await keyedPage(engine, [TWIN]);
    assert.is(other.pageInfo(0).item, 'unstable');
    writer.write(0, TWIN);
    ksm.scanFull(2);
    assert.is(writer.pageInfo(0).mapping, 'ksm');
    assert.is(other.pageInfo(0).mapping, 'ksm');
    assert.is(ksm.stats().pagesShared, 1);
  });

  test('a page made unmergeable between two batches of a pass: the next descent that meets its node gives up', async () => {
    const ksm = await Ksm.create({ engine, debug: true, maxMemory: 16 << 20, knobs: { pagesToScan: 1, smartScan: 0 } });
    const gone = ksm.createSpace({ name: 'gone', image: image([OLD]), mergeable: true });
    const later = ksm.createSpace({ name: 'later', image: image([TWIN]), mergeable: true });
    ksm.setKnob('run', 1);
    ksm.scanFull(); // pass 1: both checksums taken
    ksm.scan(); // pass 2, first batch: gone's page goes into the unstable tree
    assert.is(gone.pageInfo(0).item, 'unstable');
    gone.unmergeable(0, 1); // its contents stay (the item stays clean): only the entry stops being scannable
    ksm.scan(); // later's page descends and meets gone's node, whose page is no longer mergeable
    assert.is(later.pageInfo(0).item, 'volatile', 'the descent gave up: not inserted');
    assert.is(ksm.stats().pagesUnshared, 1, 'only the gone page\'s item, until ksmd passes it again');
  });

  test.run();
}
