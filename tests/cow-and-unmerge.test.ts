/** Copy-on-write, run=2, fork and exit through the public API, on both engines. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm } from '../src/index.js';
import { fillPage, image, randomPage, zeroPage } from './helpers/pages.js';

const A = randomPage('A');
const B = randomPage('B');

async function merged(engine: 'wasm' | 'reference', guests = 3) {
  const ksm = await Ksm.create({ engine, debug: true, maxMemory: 16 << 20, knobs: { pagesToScan: 10000 } });
  const spaces = Array.from({ length: guests }, (_, i) =>
    ksm.createSpace({ name: `g${i}`, image: image([A, B, randomPage(`own${i}`), zeroPage()]), mergeable: true }));
  ksm.setKnob('run', 1);
  ksm.scanFull(2);
  return { ksm, spaces };
}

for (const engine of ['wasm', 'reference'] as const) {
  const test = suite(`copy-on-write, run=2, fork, exit (${engine})`);

  test('a write to a merged page: the writer sees its bytes, the sharers the old ones', async () => {
    const { ksm, spaces: [g0, g1, g2] } = await merged(engine);
    assert.is(g0.pageInfo(0).mapping, 'ksm');
    assert.is(g0.pageInfo(0).frame, g1.pageInfo(0).frame, 'page 0 is one frame');
    const before = ksm.stats();
    const liveBefore = ksm.live();
    g1.write(0, new Uint8Array([1, 2, 3]), 100);
    const mine = A.slice(); mine.set([1, 2, 3], 100);
    assert.equal(g1.read(0), mine, 'the writer reads its write');
    assert.equal(g0.read(0), A, 'a sharer reads the old bytes');
    assert.equal(g2.read(0), A);
    assert.is(g1.pageInfo(0).mapping, 'private');
    // The kernel's counters wait for ksmd; cow_ksm and the live figures move at once.
    const after = ksm.stats();
    assert.equal({ ...after, cowKsm: 0 }, { ...before, cowKsm: 0 }, 'sysfs counters unchanged until ksmd passes');
    assert.is(after.cowKsm, before.cowKsm + 1);
    assert.is(ksm.live().framesInUse, liveBefore.framesInUse + 1, 'one more frame right now');
    ksm.scanFull();
    const later = ksm.stats();
    assert.is(later.pagesSharing, before.pagesSharing - 1, 'the next pass drops the sharer');
  });

  test('a KSM page is copied even by its last mapper', async () => {
    const { ksm, spaces: [g0, g1] } = await merged(engine, 2);
    g0.write(1, fillPage(9));
    g1.write(1, fillPage(8));
    assert.is(ksm.stats().cowKsm, 2);
    assert.equal(g0.read(1), fillPage(9));
    assert.equal(g1.read(1), fillPage(8));
  });

  test('rewriting the same bytes re-merges in the same visit', async () => {
    const { ksm, spaces: [g0] } = await merged(engine, 2);
    const before = ksm.stats();
    g0.write(0, A);
    ksm.scanFull();
    const after = ksm.stats();
    assert.is(after.pagesSharing, before.pagesSharing, 'unlinked and merged again');
    assert.is(g0.pageInfo(0).mapping, 'ksm');
  });

  test('run=2 makes every page private again, contents unchanged, counters as the kernel leaves them', async () => {
    const { ksm, spaces } = await merged(engine);
    const contents = spaces.map((s) => [0, 1, 2, 3].map((p) => s.read(p)));
    const scanned = ksm.stats().pagesScanned;
    ksm.setKnob('run', 2);
    for (const [i, s] of spaces.entries()) {
      for (let p = 0; p < 4; p++) {
        assert.equal(s.read(p), contents[i][p], `${s.name} page ${p}`);
        assert.is(s.pageInfo(p).mapping, 'private', `${s.name} page ${p} private`);
      }
      assert.equal(s.ksmStat().ksmRmapItems, 0);
    }
    const st = ksm.stats();
    assert.equal([st.pagesShared, st.pagesSharing, st.pagesUnshared, st.pagesVolatile, st.fullScans, st.stableNodeChains, st.stableNodeDups, st.ksmZeroPages, st.rmapItems], [0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.is(st.pagesScanned, scanned, 'pages_scanned is kept');
    assert.is(ksm.live().ksmFrames, 0);
    assert.equal(ksm.scan(), { ran: false, scanned: 0, fullScan: false }, 'ksmd does not scan while run=2');
    ksm.setKnob('run', 1);
    ksm.scanFull(2);
    assert.ok(ksm.stats().pagesSharing > 0, 'merging starts again from first sight');
  });

  test('fork: the child\'s KSM pages join their node on its first visit', async () => {
    const { ksm, spaces: [g0] } = await merged(engine, 2);
    const before = ksm.stats();
    const child = g0.fork('child');
    assert.is(child.pageInfo(0).frame, g0.pageInfo(0).frame, 'the child maps the same KSM page');
    assert.is(child.pageInfo(2).mapping, 'cow', 'private pages are shared copy-on-write');
    assert.equal(child.ksmStat().ksmRmapItems, 0);
    ksm.scanFull();
    const after = ksm.stats();
    assert.is(after.pagesSharing, before.pagesSharing + 3, 'A, B and the zero page join at once');
    assert.is(child.pageInfo(2).item, 'volatile', 'a COW-shared page cannot merge with itself');
    child.write(2, fillPage(1));
    assert.equal(g0.read(2), randomPage('own0'), 'the parent keeps its page');
  });

  test('exit: counters stay until ksmd passes, then the items go', async () => {
    const { ksm, spaces: [g0, g1] } = await merged(engine);
    const before = ksm.stats();
    g1.close();
    assert.is(ksm.stats().rmapItems, before.rmapItems, 'items stay until ksmd runs');
    assert.throws(() => g1.read(0), /exited/);
    ksm.scanFull();
    const after = ksm.stats();
    assert.is(after.rmapItems, before.rmapItems - 4);
    assert.is(after.pagesSharing, before.pagesSharing - 3);
    assert.equal(g0.read(0), A);
  });

  test.run();
}
