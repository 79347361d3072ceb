/**
 * Transparent huge pages (docs/thp.md), on both engines: the kernel's scenarios of the THP
 * experiments, with the outcomes the real ksmd showed (Linux 6.18). A guest spec is a list of runs,
 * as thp_guest.c's: `u` unique pages, `z` zero pages, a letter a content class; 512 pages are one
 * huge page.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, type AddressSpace } from '../src/index.js';
import { image, randomPage, zeroPage } from './helpers/pages.js';

function pagesOf(spec: string, guest: string): Uint8Array[] {
  const pages: Uint8Array[] = [];
  for (const run of spec.split(',')) {
    const kind = run[0];
    const count = Number(run.slice(1));
    for (let i = 0; i < count; i++) {
      pages.push(kind === 'z' ? zeroPage() : kind === 'u' ? randomPage(`${guest}/${pages.length}`) : randomPage(`class ${kind}`));
    }
  }
  return pages;
}

async function host(engine: 'wasm' | 'reference', specs: string[], knobs: Record<string, number> = {}) {
  const ksm = await Ksm.create({ engine, debug: true, maxMemory: 64 << 20, knobs: { pages_to_scan: 1, ...knobs } });
  const guests = specs.map((spec, i) => ksm.createSpace({ name: `P${i + 1}`, image: image(pagesOf(spec, `P${i + 1}`)), hugePages: true, mergeable: true }));
  ksm.setKnob('run', 1);
  return { ksm, guests };
}

const mappings = (space: AddressSpace, from: number, to: number) =>
  new Set(Array.from({ length: to - from }, (_, i) => space.pageInfo(from + i).mapping));

for (const engine of ['wasm', 'reference'] as const) {
  const test = suite(`transparent huge pages (${engine})`);

  test('a huge page none of whose pages meets a twin stays whole, visited page by page', async () => {
    const { ksm, guests: [p1] } = await host(engine, ['u512'], { pages_to_scan: 100 });
    assert.is(ksm.live().hugePages, 1);
    const s = ksm.scanFull(3);
    assert.equal([s.rmapItems, s.pagesUnshared, s.pagesShared], [512, 512, 0]);
    assert.equal([ksm.live().hugePages, ksm.live().hugePageSplits], [1, 0]);
    assert.ok(p1.pageInfo(7).huge);
  });

  test('an unstable match splits both huge pages, a stable match the third (cross-pair)', async () => {
    const { ksm, guests } = await host(engine, ['u100,a1,u411', 'u100,a1,u411', 'u100,a1,u411']);
    const s = ksm.scanFull(2);
    assert.equal([s.pagesShared, s.pagesSharing], [1, 2]);
    assert.equal([ksm.live().hugePages, ksm.live().hugePageSplits, ksm.live().splitZeroPages], [0, 3, 0]);
    assert.ok(guests.every((g) => g.pageInfo(100).mapping === 'ksm' && !g.pageInfo(0).huge));
  });

  test('twins inside one huge page: the merge fails, the split happens, they merge a pass later (dup-within)', async () => {
    const { ksm, guests: [p1] } = await host(engine, ['u100,a1,u100,a1,u310']);
    let s = ksm.scanFull(2);
    assert.equal([s.pagesShared, s.pagesSharing, ksm.live().hugePageSplits], [0, 0, 1]);
    assert.is(p1.pageInfo(201).item, 'volatile', 'the later twin is neither merged nor inserted');
    assert.is(p1.pageInfo(100).item, 'unstable', 'the earlier one stays in the tree');
    s = ksm.scanFull();
    assert.equal([s.pagesShared, s.pagesSharing], [1, 1]);
  });

  test('a split maps every zero-filled subpage to the zero page, and their items go as the walk passes (zero-within)', async () => {
    const { ksm, guests: [p1] } = await host(engine, ['u100,z100,u100,z212'], { use_zero_pages: 0 });
    let s = ksm.scanFull(2);
    assert.equal(mappings(p1, 100, 200), new Set(['split-zero']));
    assert.equal(mappings(p1, 300, 512), new Set(['split-zero']));
    assert.equal(mappings(p1, 200, 300), new Set(['private']));
    assert.equal([ksm.live().splitZeroPages, ksm.live().hugePageSplits, s.ksmZeroPages], [312, 1, 0]);
    assert.is(s.rmapItems, 202, 'pages 0-99, 100, 101 and 200-299 keep items until the walk passes them');
    assert.equal(p1.read(150), zeroPage());
    s = ksm.scanFull();
    assert.is(s.rmapItems, 200);
    const live = ksm.live();
    assert.is(live.bytesSavedNow, 312 * 4096, 'the freed zero subpages are memory saved');
  });

  test('a zero subpage meeting a zero subpage of another huge page fails its merge; the other stays whole (zero-cross)', async () => {
    const { ksm, guests: [p1, p2] } = await host(engine, ['u100,z1,u411', 'u100,z1,u411'], { use_zero_pages: 0 });
    const s = ksm.scanFull(4);
    assert.equal([s.pagesShared, s.pagesSharing], [0, 0]);
    assert.equal([ksm.live().hugePages, ksm.live().hugePageSplits, ksm.live().splitZeroPages], [1, 1, 1]);
    assert.ok(p1.pageInfo(100).huge, 'the first process\'s huge page stays whole');
    assert.is(p2.pageInfo(100).mapping, 'split-zero');
  });

  test('use_zero_pages: each lone zero subpage splits its own huge page, and ksm_zero_pages stays 0 (zero-cross-uzp)', async () => {
    const { ksm } = await host(engine, ['u100,z1,u411', 'u100,z1,u411'], { use_zero_pages: 1 });
    const s = ksm.scanFull(4);
    assert.equal([ksm.live().hugePageSplits, ksm.live().splitZeroPages, s.ksmZeroPages], [2, 2, 0]);
  });

  test('a split reaches the child that shares the huge page after fork', async () => {
    const { ksm, guests: [parent] } = await host(engine, ['u100,a1,u100,a1,u100,z210']);
    const child = parent.fork('child');
    assert.ok(child.pageInfo(0).huge && ksm.live().hugePages === 2);
    ksm.scanFull(3);
    assert.equal([parent.pageInfo(400).mapping, child.pageInfo(400).mapping], ['split-zero', 'split-zero']);
    assert.equal([ksm.live().hugePages, ksm.live().hugePageSplits], [0, 1]);
  });

  test('a write to a split-zero page gets a fresh page (no cow_ksm); collapse leaves ranges it cannot take', async () => {
    const { ksm, guests: [p1] } = await host(engine, ['u100,z1,u100,z311']);
    ksm.scanFull(3);
    const zeros = ksm.live().splitZeroPages;
    assert.ok(zeros > 0);
    p1.write(300, new Uint8Array([5]));
    assert.equal([p1.pageInfo(300).mapping, p1.read(300)[0]], ['private', 5]);
    assert.equal([ksm.live().splitZeroPages, ksm.stats().cowKsm], [zeros - 1, 0]);
    const partial = ksm.createSpace({ name: 'partial', pages: 1024 });
    partial.write(0, new Uint8Array(512 * 4096).fill(1));
    partial.collapse();
    assert.equal([partial.pageInfo(0).huge, partial.pageInfo(600).huge], [true, false], 'only the fully present span');
  });

  test.run();
}
