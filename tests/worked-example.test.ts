/**
 * The worked example of the kernel model (§7), checked on the real ksmd of kernel 6.18: three
 * processes, 13 pages, every counter after every pass, for both engines.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, type AddressSpace, type Knobs } from '../src/index.js';
import { image, randomPage, zeroPage } from './helpers/pages.js';

const [X, Y, W, U1, U2, Z] = [randomPage('X'), randomPage('Y'), randomPage('W'), randomPage('U1'), randomPage('U2'), zeroPage()];

async function workload(engine: 'wasm' | 'reference', knobs: Partial<Knobs> = {}) {
  const ksm = await Ksm.create({ engine, debug: engine === 'wasm', maxMemory: 16 << 20, clock: () => 0 });
  ksm.setKnobs({ pagesToScan: 20000, ...knobs });
  const p1 = ksm.createSpace({ name: 'P1', image: image([X, X, Y, U1, Z]), mergeable: true });
  const p2 = ksm.createSpace({ name: 'P2', image: image([X, Y, U2, Z]), mergeable: true });
  const p3 = ksm.createSpace({ name: 'P3', image: image([X, W, W, Z]), mergeable: true });
  ksm.setKnob('run', 1);
  return { ksm, spaces: [p1, p2, p3] };
}

type Row = [fullScans: number, scanned: number, shared: number, sharing: number, unshared: number, volatile: number, skipped: number, chains: number, dups: number, zero: number, profit: number];

function assertRow(ksm: Ksm, row: Row, label: string) {
  const s = ksm.stats();
  const got: Row = [s.fullScans, s.pagesScanned, s.pagesShared, s.pagesSharing, s.pagesUnshared, s.pagesVolatile, s.pagesSkipped, s.stableNodeChains, s.stableNodeDups, s.ksmZeroPages, s.generalProfit];
  assert.equal(got, row, label);
}

function assertStat(space: AddressSpace, [rmap, merging, zero, profit]: number[], label: string) {
  const st = space.ksmStat();
  assert.equal([st.ksmRmapItems, st.ksmMergingPages, st.ksmZeroPages, st.ksmProcessProfit], [rmap, merging, zero, profit], `${label} ${space.name}`);
}

for (const engine of ['wasm', 'reference'] as const) {
  const test = suite(`worked example (${engine})`);

  test('passes 1-3: every sysfs counter and ksm_stat', async () => {
    const { ksm, spaces: [p1, p2, p3] } = await workload(engine);
    ksm.scanFull();
    assertRow(ksm, [1, 13, 0, 0, 0, 13, 0, 0, 0, 0, -832], 'after pass 1');
    assertStat(p1, [5, 0, 0, -320], 'pass 1');
    assertStat(p2, [4, 0, 0, -256], 'pass 1');
    assertStat(p3, [4, 0, 0, -256], 'pass 1');
    for (const pass of [2, 3]) {
      ksm.scanFull();
      assertRow(ksm, [pass, 13 * pass, 4, 7, 2, 0, 0, 0, 0, 0, 27840], `after pass ${pass}`);
      assertStat(p1, [5, 4, 0, 16064], `pass ${pass}`);
      assertStat(p2, [4, 3, 0, 12032], `pass ${pass}`);
      assertStat(p3, [4, 4, 0, 16128], `pass ${pass}`);
    }
  });

  test('pass 2, page by page', async () => {
    const { ksm } = await workload(engine);
    ksm.scanFull();
    ksm.setKnob('pages_to_scan', 1);
    const steps = [[0, 0, 1], [1, 1, 0], [1, 1, 1], [1, 1, 2], [1, 1, 3], [1, 2, 3], [2, 3, 2], [2, 3, 3], [3, 4, 2], [3, 5, 2], [3, 5, 3], [4, 6, 2], [4, 7, 2]];
    for (const [i, expected] of steps.entries()) {
      assert.is(ksm.scan().scanned, 1, `step ${i} scans one page`);
      const s = ksm.stats();
      assert.equal([s.pagesShared, s.pagesSharing, s.pagesUnshared], expected, `pass 2 step ${i}`);
    }
    assert.equal(ksm.scan(), { ran: true, scanned: 0, fullScan: true }, 'the pass ends in a batch of its own');
  });

  test('passes 4-14: smart_scan skips the unique pages', async () => {
    const { ksm } = await workload(engine);
    ksm.scanFull(3);
    const table: Record<number, number[]> = {
      4: [2, 0, 0, 52], 5: [0, 2, 2, 63], 6: [2, 0, 2, 76], 7: [0, 2, 4, 87], 8: [0, 2, 6, 98], 9: [2, 0, 6, 111],
      10: [0, 2, 8, 122], 11: [0, 2, 10, 133], 12: [0, 2, 12, 144], 13: [0, 2, 14, 155], 14: [2, 0, 14, 168],
    };
    for (let pass = 4; pass <= 14; pass++) {
      const s = ksm.scanFull();
      assert.equal([s.pagesUnshared, s.pagesVolatile, s.pagesSkipped, s.pagesScanned], table[pass], `after pass ${pass}`);
      assert.equal([s.pagesShared, s.pagesSharing], [4, 7], `merges hold at pass ${pass}`);
    }
  });

  test('use_zero_pages=1: zero pages map the zero page', async () => {
    const { ksm, spaces } = await workload(engine, { useZeroPages: 1 });
    ksm.scanFull(2);
    assertRow(ksm, [2, 26, 3, 5, 2, 3, 0, 0, 0, 3, 31936], 'after pass 2');
    for (const space of spaces) assert.is(space.ksmStat().ksmZeroPages, 1, `${space.name} zero pages`);
    ksm.scanFull();
    assertRow(ksm, [3, 36, 3, 5, 2, 0, 0, 0, 0, 3, 32128], 'after pass 3');
    assert.is(ksm.stats().rmapItems, 10);
    assertStat(spaces[0], [4, 3, 1, 16128], 'pass 3');
  });

  test('max_page_sharing=2: chains and dups', async () => {
    const { ksm } = await workload(engine, { maxPageSharing: 2 });
    for (const pass of [2, 3]) {
      ksm.scanFull(pass === 2 ? 2 : 1);
      const s = ksm.stats();
      assert.equal([s.pagesShared, s.pagesSharing, s.pagesUnshared, s.stableNodeChains, s.stableNodeDups, s.generalProfit], [5, 5, 3, 1, 2, 19648], `after pass ${pass}`);
    }
  });

  test.run();
}
