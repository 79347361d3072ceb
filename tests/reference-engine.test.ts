/**
 * The reference engine, driven directly through the KsmBackend contract: checksum known answers,
 * the red-black tree, the worked example of ksm-model.md §7 (every table, both variants),
 * copy-on-write, run=2, fork and exit, and a random-operation run checked against the engine's
 * own invariants and a shadow copy of every page.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MADV_DONTNEED, MADV_MERGEABLE, MADV_UNMERGEABLE, PAGE_SIZE, REGISTERED_FIRST, type Advice, type ScanKnobs,
} from '../src/backend.js';
import { ReferenceBackend, xxh64, xxh64Low32 } from '../src/reference/index.js';
import { RB_BLACK, RbTree, rbVerify, type RbNode } from '../src/reference/rbtree.js';
import { prng as mulberry32 } from './helpers/pages.js';

// ---- Helpers.

function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

const DEFAULTS: ScanKnobs = {
  maxPageSharing: 256, useZeroPages: false, smartScan: true,
  stableNodeChainsPruneMillisecs: 2000, runUnmerge: false,
};

/** The sysfs view of the counters (pages_volatile and general_profit derived as the kernel does). */
function sysfs(b: ReferenceBackend) {
  const c = b.counters();
  return {
    fullScans: c.fullScans, scanned: c.pagesScanned, shared: c.pagesShared, sharing: c.pagesSharing,
    unshared: c.pagesUnshared, volatile: Math.max(0, c.rmapItems - c.pagesShared - c.pagesSharing - c.pagesUnshared),
    skipped: c.pagesSkipped, chains: c.stableNodeChains, dups: c.stableNodeDups, zero: c.ksmZeroPages,
    profit: (c.pagesSharing + c.ksmZeroPages) * 4096 - c.rmapItems * 64, rmap: c.rmapItems,
  };
}

/** /proc/PID/ksm_stat: [rmap items, merging pages, zero pages, process profit]. */
function ksmStat(b: ReferenceBackend, id: number): number[] {
  const s = b.spaceCounters(id);
  return [s.rmapItems, s.mergingPages, s.zeroPages, (s.mergingPages + s.zeroPages) * 4096 - s.rmapItems * 64];
}

function assertClean(b: ReferenceBackend, where: string): void {
  assert.equal(b.verify(), [], `invariants (${where})`);
}

let clock = 0;
/** One full pass in one batch. */
function pass(b: ReferenceBackend): void {
  const r = b.scanBatch(1e9, (clock += 20));
  assert.ok(r.passEnded, 'the batch ends a pass');
  assertClean(b, `after pass ${b.counters().fullScans}`);
}

function readPage(b: ReferenceBackend, id: number, vpn: number): Uint8Array {
  const out = new Uint8Array(PAGE_SIZE);
  b.read(id, vpn * PAGE_SIZE, out);
  return out;
}

/**
 * The workload of ksm-model.md §7: P1 (X, X, Y, U1, Z), P2 (X, Y, U2, Z), P3 (X, W, W, Z), each
 * written and made mergeable before any scan, so the slot order is P1, P2, P3.
 */
function workedExample(knobs: Partial<ScanKnobs> = {}, seed = 7) {
  const rand = mulberry32(seed);
  const pages: Record<string, Uint8Array> = {
    X: randomBytes(rand, PAGE_SIZE), Y: randomBytes(rand, PAGE_SIZE), W: randomBytes(rand, PAGE_SIZE),
    U1: randomBytes(rand, PAGE_SIZE), U2: randomBytes(rand, PAGE_SIZE), Z: new Uint8Array(PAGE_SIZE),
  };
  const layout = [['X', 'X', 'Y', 'U1', 'Z'], ['X', 'Y', 'U2', 'Z'], ['X', 'W', 'W', 'Z']];
  const b = new ReferenceBackend();
  b.setScanKnobs({ ...DEFAULTS, ...knobs });
  const ids = layout.map((names, i) => {
    const id = b.createSpace(names.length);
    names.forEach((name, vpn) => assert.is(b.write(id, vpn * PAGE_SIZE, pages[name]), 0));
    // Only the first registration finds the list empty (and would wake a waiting ksmd).
    assert.is(b.madvise(id, 0, names.length, MADV_MERGEABLE), i === 0 ? REGISTERED_FIRST : 0);
    return id;
  });
  return { b, ids, pages, layout };
}

function assertContents(w: ReturnType<typeof workedExample>, ids = w.ids): void {
  w.layout.forEach((names, i) => {
    if (!ids.includes(w.ids[i])) return;
    names.forEach((name, vpn) => assert.equal(readPage(w.b, w.ids[i], vpn), w.pages[name], `P${i + 1} page ${vpn}`));
  });
}

// ---- 1. Checksum.

/** XXH64 straight from the specification with BigInt: slow, independent of the engine's. */
function xxh64Slow(b: Uint8Array): bigint {
  const M = (1n << 64n) - 1n;
  const P1 = 0x9e3779b185ebca87n, P2 = 0xc2b2ae3d27d4eb4fn, P3 = 0x165667b19e3779f9n;
  const P4 = 0x85ebca77c2b2ae63n, P5 = 0x27d4eb2f165667c5n;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
  const le = (p: number, n: number) => { let v = 0n; for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[p + i]); return v; };
  const round = (acc: bigint, x: bigint) => (rotl((acc + x * P2) & M, 31n) * P1) & M;
  const n = b.length;
  let p = 0, h: bigint;
  if (n >= 32) {
    const v = [(P1 + P2) & M, P2, 0n, (-P1) & M];
    for (; p + 32 <= n; p += 32) for (let i = 0; i < 4; i++) v[i] = round(v[i], le(p + 8 * i, 8));
    h = (rotl(v[0], 1n) + rotl(v[1], 7n) + rotl(v[2], 12n) + rotl(v[3], 18n)) & M;
    for (const x of v) h = ((h ^ round(0n, x)) * P1 + P4) & M;
  } else {
    h = P5;
  }
  h = (h + BigInt(n)) & M;
  for (; p + 8 <= n; p += 8) h = (rotl(h ^ round(0n, le(p, 8)), 27n) * P1 + P4) & M;
  if (p + 4 <= n) { h = (rotl(h ^ ((le(p, 4) * P1) & M), 23n) * P2 + P3) & M; p += 4; }
  for (; p < n; p++) h = (rotl(h ^ ((BigInt(b[p]) * P5) & M), 11n) * P1) & M;
  h ^= h >> 33n; h = (h * P2) & M; h ^= h >> 29n; h = (h * P3) & M; h ^= h >> 32n;
  return h;
}

const checksum = suite('xxh64 checksum');

checksum('known answers', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.is(xxh64(text('')), 0xef46db3751d8e999n);
  assert.is(xxh64(text('a')), 0xd24ec4f1a98c6e5bn);
  assert.is(xxh64(text('abc')), 0x44bc2cf5ad770999n);
  assert.is(xxh64Low32(text('abc')), 0xad770999);
});

checksum('equals a slow BigInt XXH64 on random inputs of many lengths and offsets', () => {
  const rand = mulberry32(1);
  const lengths = [...Array(80).keys(), 127, 128, 129, 1000, 4095, 4096, 4097, 8192];
  for (let k = 0; k < 200; k++) lengths.push(Math.floor(rand() * 6000));
  for (const [i, n] of lengths.entries()) {
    const offset = i % 4;
    const buf = randomBytes(rand, n + offset + 3);
    const want = xxh64Slow(buf.subarray(offset, offset + n));
    assert.is(xxh64(buf, offset, offset + n), want, `length ${n}, offset ${offset}`);
    assert.is(xxh64(buf.subarray(offset, offset + n)), want, `length ${n}, subarray at ${offset}`);
    assert.is(xxh64Low32(buf, offset, offset + n), Number(want & 0xffffffffn));
  }
  for (const fill of [0, 0xff]) {
    const page = new Uint8Array(PAGE_SIZE).fill(fill);
    assert.is(xxh64(page), xxh64Slow(page), `page of ${fill}`);
  }
});

checksum.run();

// ---- The red-black tree.

class Num implements RbNode<Num> {
  left: Num | null = null;
  right: Num | null = null;
  parent: Num | null = null;
  color = RB_BLACK;
  constructor(readonly key: number) {}
}

function insertNum(tree: RbTree<Num>, node: Num): void {
  let parent: Num | null = null, left = false;
  for (let n = tree.root; n !== null; n = left ? n.left : n.right) {
    parent = n;
    left = node.key < n.key;
  }
  tree.link(node, parent, left);
  tree.insertFixup(node);
}

function keys(tree: RbTree<Num>): number[] {
  const out: number[] = [];
  for (let n = tree.first(); n !== null; n = tree.next(n)) out.push(n.key);
  return out;
}

const rbtree = suite('rbtree');

rbtree('random inserts and erases keep the red-black properties and the order', () => {
  const rand = mulberry32(2);
  const tree = new RbTree<Num>();
  const live: Num[] = [];
  for (let step = 0; step < 4000; step++) {
    if (live.length > 0 && rand() < 0.45) {
      const [node] = live.splice(Math.floor(rand() * live.length), 1);
      tree.erase(node);
    } else {
      const node = new Num(Math.floor(rand() * 1000));
      insertNum(tree, node);
      live.push(node);
    }
    assert.type(rbVerify(tree.root), 'number', `step ${step}`);
  }
  assert.equal(keys(tree), live.map((n) => n.key).sort((a, b) => a - b));
});

rbtree('erase of a node with two children puts its successor in its place; replace keeps position and colour', () => {
  const tree = new RbTree<Num>();
  const nodes = [50, 30, 70, 20, 40, 60, 80].map((k) => new Num(k));
  nodes.forEach((n) => insertNum(tree, n));
  const [n50, , n70, , , n60] = nodes;
  tree.erase(n50);
  assert.is(tree.root, n60);
  assert.is(n60.right, n70);
  const sub = new Num(70);
  const color = n70.color;
  tree.replace(n70, sub);
  assert.is(n60.right, sub);
  assert.is(sub.color, color);
  assert.is(sub.parent, n60);
  assert.equal(keys(tree), [20, 30, 40, 60, 70, 80]);
  assert.type(rbVerify(tree.root), 'number');
});

rbtree.run();

// ---- 2. The worked example (ksm-model.md §7).

const worked = suite('worked example (ksm-model.md §7)');

worked('sysfs and ksm_stat after passes 1, 2 and 3', () => {
  const { b, ids } = workedExample();
  pass(b);
  assert.equal(sysfs(b), {
    fullScans: 1, scanned: 13, shared: 0, sharing: 0, unshared: 0, volatile: 13, skipped: 0,
    chains: 0, dups: 0, zero: 0, profit: -832, rmap: 13,
  });
  assert.equal(ids.map((id) => ksmStat(b, id)), [[5, 0, 0, -320], [4, 0, 0, -256], [4, 0, 0, -256]]);
  for (const n of [2, 3]) {
    pass(b);
    assert.equal(sysfs(b), {
      fullScans: n, scanned: 13 * n, shared: 4, sharing: 7, unshared: 2, volatile: 0, skipped: 0,
      chains: 0, dups: 0, zero: 0, profit: 27840, rmap: 13,
    }, `pass ${n}`);
    assert.equal(ids.map((id) => ksmStat(b, id)), [[5, 4, 0, 16064], [4, 3, 0, 12032], [4, 4, 0, 16128]]);
  }
});

worked('pass 2 step by step (budget 1), the scanned page becoming the KSM page', () => {
  const { b, ids } = workedExample();
  const [p1, p2, p3] = ids;
  pass(b);
  const x1Frame = b.pageInfo(p1, 1).frame;
  const steps = [
    [0, 0, 1], [1, 1, 0], [1, 1, 1], [1, 1, 2], [1, 1, 3], [1, 2, 3], [2, 3, 2],
    [2, 3, 3], [3, 4, 2], [3, 5, 2], [3, 5, 3], [4, 6, 2], [4, 7, 2],
  ];
  for (const [i, want] of steps.entries()) {
    const r = b.scanBatch(1, (clock += 20));
    assert.equal(r, { scanned: 1, passEnded: false, status: 0, noSlots: false }, `step ${i}`);
    const s = sysfs(b);
    assert.equal([s.shared, s.sharing, s.unshared], want, `step ${i}`);
    assertClean(b, `step ${i}`);
  }
  assert.equal(b.scanBatch(1, (clock += 20)), { scanned: 0, passEnded: true, status: 0, noSlots: false });
  assert.is(b.counters().fullScans, 2);
  // Node X's KSM page is P1.X1's frame, and every X maps it.
  for (const [id, vpn] of [[p1, 0], [p1, 1], [p2, 0], [p3, 0]]) {
    const info = b.pageInfo(id, vpn);
    assert.is(info.frame, x1Frame);
    assert.is(info.mapping, 'ksm');
    assert.is(info.item, 'stable');
    assert.is(info.mapcount, 4);
  }
  assert.is(b.pageInfo(p1, 3).item, 'unstable');
  assert.is(b.pageInfo(p1, 3).mapping, 'private');
});

worked('smart_scan over passes 4 to 14', () => {
  const { b } = workedExample();
  for (let n = 1; n <= 3; n++) pass(b);
  const table: Record<number, number[]> = { // unshared, volatile, skipped, scanned
    4: [2, 0, 0, 52], 5: [0, 2, 2, 63], 6: [2, 0, 2, 76], 7: [0, 2, 4, 87], 8: [0, 2, 6, 98],
    9: [2, 0, 6, 111], 10: [0, 2, 8, 122], 11: [0, 2, 10, 133], 12: [0, 2, 12, 144],
    13: [0, 2, 14, 155], 14: [2, 0, 14, 168],
  };
  for (let n = 4; n <= 14; n++) {
    pass(b);
    const s = sysfs(b);
    assert.equal([s.unshared, s.volatile, s.skipped, s.scanned], table[n], `pass ${n}`);
    assert.equal([s.shared, s.sharing, s.fullScans], [4, 7, n]);
  }
});

worked('use_zero_pages=1', () => {
  const { b, ids } = workedExample({ useZeroPages: true });
  pass(b);
  pass(b);
  assert.equal(sysfs(b), {
    fullScans: 2, scanned: 26, shared: 3, sharing: 5, unshared: 2, volatile: 3, skipped: 0,
    chains: 0, dups: 0, zero: 3, profit: 31936, rmap: 13,
  });
  for (const id of ids) assert.is(b.spaceCounters(id).zeroPages, 1);
  assert.is(b.pageInfo(ids[0], 4).mapping, 'zero');
  assert.is(b.pageInfo(ids[0], 4).item, 'volatile');
  pass(b);
  assert.equal(sysfs(b), {
    fullScans: 3, scanned: 36, shared: 3, sharing: 5, unshared: 2, volatile: 0, skipped: 0,
    chains: 0, dups: 0, zero: 3, profit: 32128, rmap: 10,
  });
  assert.equal(ksmStat(b, ids[0]), [4, 3, 1, 16128]);
  assert.equal(ksmStat(b, ids[1]), [3, 2, 1, 12096]);
  assert.equal(ksmStat(b, ids[2]), [3, 3, 1, 16192]);
  assert.is(b.pageInfo(ids[0], 4).item, 'none');
});

worked('max_page_sharing=2: a chain with two dups for X', () => {
  const { b } = workedExample({ maxPageSharing: 2 });
  pass(b);
  for (let n = 2; n <= 3; n++) {
    pass(b);
    const s = sysfs(b);
    assert.equal([s.shared, s.sharing, s.unshared, s.chains, s.dups, s.profit], [5, 5, 3, 1, 2, 19648], `pass ${n}`);
  }
});

worked.run();

// ---- 3. Copy-on-write.

const cow = suite('copy-on-write');

cow('a write to a merged page copies it at once; the counters move at the next visit', () => {
  const w = workedExample();
  const { b, ids: [p1, p2, p3] } = w;
  pass(b);
  pass(b);
  const fresh = randomBytes(mulberry32(3), PAGE_SIZE);
  assert.is(b.write(p1, 0, fresh), 0);
  assert.equal(readPage(b, p1, 0), fresh);
  assert.equal(readPage(b, p1, 1), w.pages.X);
  assert.equal(readPage(b, p2, 0), w.pages.X);
  assert.equal(readPage(b, p3, 0), w.pages.X);
  assert.is(b.counters().cowKsm, 1);
  assert.equal(b.pageInfo(p1, 0).mapping, 'private');
  assert.equal(b.pageInfo(p1, 0).item, 'stable');
  assert.is(b.pageInfo(p1, 1).mapcount, 3);
  assert.equal([sysfs(b).shared, sysfs(b).sharing], [4, 7]);
  assertClean(b, 'after the write');
  // Pass 3, page by page: the first visit is P1 page 0, which leaves node X.
  b.scanBatch(1, (clock += 20));
  assert.equal([sysfs(b).shared, sysfs(b).sharing, sysfs(b).volatile], [4, 6, 1]);
  assert.is(b.pageInfo(p1, 0).item, 'volatile');
  b.scanBatch(1e9, (clock += 20));
  assert.equal(b.spaceCounters(p1).mergingPages, 3);
  assert.is(b.counters().cowKsm, 1);
  assertClean(b, 'after pass 3');
});

cow('rewriting the same content re-merges with the same KSM page in the same visit', () => {
  const w = workedExample();
  const { b, ids: [p1] } = w;
  pass(b);
  pass(b);
  const before = sysfs(b);
  const ksmFrame = b.pageInfo(p1, 2).frame; // Y
  assert.is(b.write(p1, 2 * PAGE_SIZE, w.pages.Y), 0);
  assert.is(b.counters().cowKsm, 1);
  assert.not.equal(b.pageInfo(p1, 2).frame, ksmFrame);
  pass(b);
  assert.equal(sysfs(b), { ...before, fullScans: 3, scanned: 39 });
  assert.is(b.pageInfo(p1, 2).frame, ksmFrame);
});

cow('the last sharer copies too, and a freed KSM page leaves a stale node for the next pass', () => {
  const w = workedExample();
  const { b, ids: [p1, , p3] } = w;
  pass(b);
  pass(b);
  const rand = mulberry32(4);
  assert.is(b.write(p3, PAGE_SIZE, randomBytes(rand, PAGE_SIZE)), 0); // W0
  assert.is(b.write(p3, 2 * PAGE_SIZE, randomBytes(rand, PAGE_SIZE)), 0); // W1: W's KSM page is freed
  assert.is(b.counters().cowKsm, 2);
  assert.equal([sysfs(b).shared, sysfs(b).sharing], [4, 7]);
  assert.is(b.live().ksmFrames, 3);
  pass(b); // P3.W0's removal finds the node stale: drops it (sharing and shared)
  assert.equal([sysfs(b).shared, sysfs(b).sharing, sysfs(b).volatile], [3, 6, 2]);
  assert.equal(readPage(b, p1, 0), w.pages.X);
});

cow.run();

// ---- 4. run=2.

const unmerge = suite('unmergeAll (run=2)');

unmerge('every page private again, contents kept, counters 0 but pages_scanned and pages_skipped', () => {
  const w = workedExample();
  const { b, ids } = w;
  for (let n = 1; n <= 5; n++) pass(b); // pass 5 skips U1 and U2
  const before = b.counters();
  assert.is(before.pagesSkipped, 2);
  assert.is(b.unmergeAll(), 0);
  assertContents(w);
  ids.forEach((id, i) => w.layout[i].forEach((_, vpn) => {
    const info = b.pageInfo(id, vpn);
    assert.is(info.mapping, 'private');
    assert.is(info.mapcount, 1);
    assert.is(info.item, 'none');
    assert.ok(info.mergeable);
  }));
  assert.equal(b.counters(), {
    pagesShared: 0, pagesSharing: 0, pagesUnshared: 0, rmapItems: 0, pagesScanned: before.pagesScanned,
    pagesSkipped: 2, fullScans: 0, stableNodeChains: 0, stableNodeDups: 0, ksmZeroPages: 0,
    cowKsm: 11, // X 4 + Y 2 + W 2 + Z 3 mappings
  });
  for (const id of ids) {
    const s = b.spaceCounters(id);
    assert.equal([s.rmapItems, s.mergingPages, s.zeroPages, s.registered, s.mergeable], [0, 0, 0, true, true]);
  }
  assert.is(b.live().ksmFrames, 0);
  assert.is(b.live().framesInUse, 13);
  assertClean(b, 'after run=2');
  pass(b); // first sight again
  assert.equal([sysfs(b).fullScans, sysfs(b).volatile, sysfs(b).shared], [1, 13, 0]);
  pass(b);
  assert.equal([sysfs(b).shared, sysfs(b).sharing, sysfs(b).unshared], [4, 7, 2]);
});

unmerge('KSM zero pages become private zeroed pages without cow_ksm', () => {
  const w = workedExample({ useZeroPages: true });
  pass(w.b);
  pass(w.b);
  assert.is(w.b.unmergeAll(), 0);
  assert.is(w.b.counters().cowKsm, 8); // X 4 + Y 2 + W 2
  assert.is(w.b.counters().ksmZeroPages, 0);
  assert.is(w.b.pageInfo(w.ids[0], 4).mapping, 'private');
  assertContents(w);
  assertClean(w.b, 'after run=2');
});

unmerge("a KSM page still mapped by a fork sibling's non-mergeable page survives run=2", () => {
  const x = randomBytes(mulberry32(8), PAGE_SIZE);
  const b = new ReferenceBackend();
  b.setScanKnobs(DEFAULTS);
  const q = b.createSpace(1);
  const p = b.createSpace(1);
  for (const id of [q, p]) { b.write(id, 0, x); b.madvise(id, 0, 1, MADV_MERGEABLE); }
  const c = b.fork(p);
  b.madvise(c, 0, 1, MADV_UNMERGEABLE); // still COW-shares P's frame
  pass(b);
  pass(b); // P.X matches Q.X: P's frame becomes the KSM page in place, C's page with it
  assert.is(b.pageInfo(c, 0).mapping, 'ksm');
  assert.is(b.pageInfo(c, 0).mergeable, false);
  assert.is(b.pageInfo(c, 0).mapcount, 3);
  assert.is(b.unmergeAll(), 0);
  assert.is(b.counters().cowKsm, 2);
  assert.equal([sysfs(b).shared, sysfs(b).sharing, sysfs(b).rmap], [0, 0, 0]);
  assert.is(b.removeAllStableNodes(), false); // the kernel's busy node
  assertClean(b, 'after run=2');
  assert.is(b.write(c, 0, new Uint8Array([1])), 0);
  assert.is(b.counters().cowKsm, 3);
  assert.is(b.removeAllStableNodes(), true);
  assertClean(b, 'after the last mapping went');
});

unmerge('ENOMEM (frame limit) changes nothing', () => {
  const x = randomBytes(mulberry32(6), PAGE_SIZE);
  const b = new ReferenceBackend({ frameLimit: 3 });
  b.setScanKnobs(DEFAULTS);
  const id = b.createSpace(3);
  for (let vpn = 0; vpn < 3; vpn++) assert.is(b.write(id, vpn * PAGE_SIZE, x), 0);
  b.madvise(id, 0, 3, MADV_MERGEABLE);
  pass(b);
  pass(b);
  assert.is(b.live().framesInUse, 1); // one KSM page with 3 mappings
  const counters = b.counters();
  const infos = [0, 1, 2].map((vpn) => b.pageInfo(id, vpn));
  assert.is(b.unmergeAll(), -12); // 3 copies + the KSM page > 3
  assert.is(b.madvise(id, 0, 3, MADV_UNMERGEABLE), -12);
  assert.equal(b.counters(), counters);
  assert.equal([0, 1, 2].map((vpn) => b.pageInfo(id, vpn)), infos);
  assert.is(b.madvise(id, 0, 2, MADV_UNMERGEABLE), 0); // 2 copies fit
  assert.is(b.write(id, 2 * PAGE_SIZE, new Uint8Array([1])), -12); // a KSM page is always copied
  assert.equal(readPage(b, id, 2), x);
  assert.is(b.counters().cowKsm, 2);
  assertClean(b, 'after ENOMEM');
});

unmerge.run();

// ---- 5. fork.

const fork = suite('fork');

fork("a child's KSM pages join at first sight, beyond max_page_sharing; COW-shared pages stay volatile", () => {
  const w = workedExample({ maxPageSharing: 4, smartScan: false });
  const { b, ids: [p1] } = w;
  pass(b);
  pass(b); // node X holds 4 items: full
  const before = sysfs(b);
  const child = b.fork(p1);
  assert.equal(sysfs(b), before);
  assert.equal(b.spaceCounters(child), {
    rmapItems: 0, zeroPages: 0, mergingPages: 0, mergeable: true, mergeAny: false, registered: true,
  });
  assert.equal(b.pageInfo(child, 0).frame, b.pageInfo(p1, 0).frame);
  assert.is(b.pageInfo(child, 0).mapping, 'ksm');
  assert.is(b.pageInfo(child, 3).mapping, 'cow');
  assert.is(b.pageInfo(child, 3).mapcount, 2);
  pass(b);
  let s = sysfs(b);
  assert.equal([s.shared, s.sharing, s.unshared, s.volatile, s.chains, s.rmap], [4, 11, 2, 1, 0, 18]);
  assert.is(b.pageInfo(p1, 0).mapcount, 6);
  assert.equal(ksmStat(b, child).slice(0, 2), [5, 4]);
  assert.is(b.pageInfo(child, 3).item, 'volatile');
  pass(b); // the child's U1 meets its own frame in the unstable tree: aborted, not inserted
  s = sysfs(b);
  assert.equal([s.shared, s.sharing, s.unshared, s.volatile], [4, 11, 2, 1]);
  assert.is(b.pageInfo(child, 3).item, 'volatile');
  assert.is(b.write(child, 3 * PAGE_SIZE, w.pages.U1), 0); // plain COW break: no cow_ksm
  assert.is(b.counters().cowKsm, 0);
  assert.is(b.pageInfo(child, 3).mapping, 'private');
  pass(b);
  s = sysfs(b);
  assert.equal([s.shared, s.sharing, s.unshared, s.volatile], [5, 12, 1, 0]);
  assertContents(w);
  for (let vpn = 0; vpn < 5; vpn++) {
    assert.equal(readPage(b, child, vpn), w.pages[w.layout[0][vpn]]);
  }
});

fork('KSM zero PTEs are inherited and counted at once', () => {
  const { b, ids: [p1] } = workedExample({ useZeroPages: true });
  pass(b);
  pass(b);
  const child = b.fork(p1);
  assert.is(b.counters().ksmZeroPages, 4);
  assert.is(b.spaceCounters(child).zeroPages, 1);
  assert.is(b.pageInfo(child, 4).mapping, 'zero');
  assertClean(b, 'after fork');
});

fork.run();

// ---- 6. exit.

const exit = suite('exit');

exit("counters stay until the next pass, which frees the exited space's items", () => {
  const w = workedExample();
  const { b, ids: [p1, p2, p3] } = w;
  pass(b);
  pass(b);
  const before = sysfs(b);
  b.exit(p2);
  assert.equal(sysfs(b), before);
  assert.is(b.pageInfo(p1, 0).mapcount, 3);
  // ksm_stat stays readable after exit (the driver allows it): the items until ksmd frees them
  assert.equal(b.spaceCounters(p2), {
    rmapItems: 4, zeroPages: 0, mergingPages: 3, mergeable: false, mergeAny: false, registered: true,
  });
  assert.is(b.pageInfo(p2, 0).mapping, 'unmapped');
  assertContents(w, [p1, p3]);
  assertClean(b, 'after exit');
  pass(b); // P2's slot moved to the front: freed first
  assert.equal(sysfs(b), {
    fullScans: 3, scanned: 35, shared: 4, sharing: 4, unshared: 1, volatile: 0, skipped: 0,
    chains: 0, dups: 0, zero: 0, profit: 4 * 4096 - 9 * 64, rmap: 9,
  });
  assertContents(w, [p1, p3]);
  assert.equal(b.spaceCounters(p2), {
    rmapItems: 0, zeroPages: 0, mergingPages: 0, mergeable: false, mergeAny: false, registered: false,
  });
});

exit('KSM zero PTEs leave at once; the last space gone, one pass cleans up, then nothing runs', () => {
  const { b, ids } = workedExample({ useZeroPages: true });
  pass(b);
  pass(b);
  b.exit(ids[0]);
  assert.is(b.counters().ksmZeroPages, 2);
  b.exit(ids[1]);
  b.exit(ids[2]);
  assert.is(sysfs(b).rmap, 13);
  pass(b);
  assert.equal(sysfs(b), {
    fullScans: 3, scanned: 26, shared: 0, sharing: 0, unshared: 0, volatile: 0, skipped: 0,
    chains: 0, dups: 0, zero: 0, profit: 0, rmap: 0,
  });
  assert.equal(b.scanBatch(100, (clock += 20)), { scanned: 0, passEnded: false, status: 0, noSlots: true });
  assert.is(b.live().framesInUse, 0);
});

exit('a registered space with no rmap items is freed at once', () => {
  const b = new ReferenceBackend();
  const id = b.createSpace(1);
  b.write(id, 0, new Uint8Array([1]));
  b.madvise(id, 0, 1, MADV_MERGEABLE);
  b.exit(id);
  assert.equal(b.scanBatch(100, 0), { scanned: 0, passEnded: false, status: 0, noSlots: true });
  assertClean(b, 'after exit');
});

exit.run();

// ---- Slot order and user actions between passes.

const slots = suite('slots and user actions');

slots('a space registered mid-pass waits for the next pass', () => {
  const { b } = workedExample();
  b.scanBatch(3, 0); // inside P1
  const late = b.createSpace(2);
  b.write(late, 0, new Uint8Array(PAGE_SIZE).fill(9));
  b.write(late, PAGE_SIZE, new Uint8Array(PAGE_SIZE).fill(9));
  b.madvise(late, 0, 2, MADV_MERGEABLE);
  const r = b.scanBatch(1e9, 0);
  assert.equal([r.scanned, r.passEnded], [10, true]);
  assert.is(b.spaceCounters(late).rmapItems, 0);
  pass(b);
  assert.is(b.spaceCounters(late).rmapItems, 2);
});

slots('MADV_UNMERGEABLE and unmap: copies at once, counters at the next pass, then the slot goes', () => {
  const w = workedExample();
  const { b, ids: [p1, p2, p3] } = w;
  pass(b);
  pass(b);
  assert.is(b.madvise(p2, 0, 4, MADV_UNMERGEABLE), 0);
  assert.is(b.counters().cowKsm, 3); // X, Y, Z
  assert.is(b.spaceCounters(p2).mergeable, false);
  assert.is(b.spaceCounters(p2).rmapItems, 4);
  pass(b);
  assert.equal(b.spaceCounters(p2), {
    rmapItems: 0, zeroPages: 0, mergingPages: 0, mergeable: false, mergeAny: false, registered: false,
  });
  b.unmap(p3, 1, 2); // W0, W1: W's KSM page is freed
  b.madvise(p1, 3, 1, MADV_DONTNEED);
  assert.is(b.pageInfo(p3, 1).mapping, 'unmapped');
  assert.is(b.pageInfo(p1, 3).mapping, 'absent');
  assert.equal(readPage(b, p1, 3), new Uint8Array(PAGE_SIZE));
  pass(b);
  assert.is(b.spaceCounters(p3).rmapItems, 2);
  assert.is(b.spaceCounters(p1).rmapItems, 4);
  assertContents(w, [p2]);
});

slots('merge-any: on registers and marks every page; off unmerges', () => {
  const b = new ReferenceBackend();
  b.setScanKnobs(DEFAULTS);
  const page = randomBytes(mulberry32(5), PAGE_SIZE);
  const id = b.createSpace(3);
  for (let vpn = 0; vpn < 3; vpn++) b.write(id, vpn * PAGE_SIZE, page);
  assert.is(b.setMergeAny(id, true), REGISTERED_FIRST, 'the first slot on an empty list');
  assert.equal(b.spaceCounters(id).registered && b.spaceCounters(id).mergeAny, true);
  pass(b);
  pass(b);
  assert.equal([sysfs(b).shared, sysfs(b).sharing], [1, 2]);
  assert.is(b.setMergeAny(id, false), 0);
  assert.is(b.counters().cowKsm, 3);
  assert.equal([b.spaceCounters(id).mergeAny, b.spaceCounters(id).mergeable, b.spaceCounters(id).registered], [false, false, true]);
  pass(b);
  assert.equal([sysfs(b).shared, sysfs(b).sharing, sysfs(b).rmap], [0, 0, 0]);
  assert.is(b.spaceCounters(id).registered, false);
  // Off while already off changes nothing: madvised pages stay mergeable.
  assert.is(b.madvise(id, 0, 3, MADV_MERGEABLE), REGISTERED_FIRST, 'the list had emptied: registering again wakes ksmd');
  assert.is(b.madvise(id, 0, 3, MADV_MERGEABLE), 0, 'already registered');
  assert.is(b.setMergeAny(id, false), 0);
  assert.is(b.pageInfo(id, 0).mergeable, true);
});

slots.run();

// ---- Random operations against the engine's invariants and a shadow copy of every page.

const random = suite('random operations');

random('invariants and page contents hold after every operation', () => {
  for (let seed = 1; seed <= 12; seed++) runRandom(seed, 700);
});

function runRandom(seed: number, steps: number): void {
  const rand = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const alphabet = [new Uint8Array(PAGE_SIZE), ...Array.from({ length: 5 }, () => randomBytes(rand, PAGE_SIZE))];
  const b = new ReferenceBackend({ frameLimit: seed % 3 === 0 ? 40 : undefined });
  let knobs: ScanKnobs = {
    ...DEFAULTS, maxPageSharing: 2 + (seed % 3), useZeroPages: seed % 2 === 0,
    smartScan: seed % 4 !== 1, stableNodeChainsPruneMillisecs: 30,
  };
  b.setScanKnobs(knobs);
  /** Shadow: per live space, per page: mapped and the bytes it must read. */
  const shadow = new Map<number, Array<Uint8Array | null>>();
  const newSpace = () => {
    const n = 1 + Math.floor(rand() * 8);
    const id = b.createSpace(n);
    shadow.set(id, Array.from({ length: n }, () => new Uint8Array(PAGE_SIZE)));
  };
  newSpace();
  newSpace();
  let now = 0;
  for (let step = 0; step < steps; step++) {
    const ids = [...shadow.keys()];
    const id = pick(ids);
    const pages = shadow.get(id) as Array<Uint8Array | null>;
    const vpn = Math.floor(rand() * pages.length);
    const count = 1 + Math.floor(rand() * (pages.length - vpn));
    const mapped = pages.slice(vpn, vpn + count).every((p) => p !== null);
    const op = rand();
    let what = '';
    if (op < 0.3) {
      what = 'scan';
      b.scanBatch(1 + Math.floor(rand() * 12), (now += Math.floor(rand() * 20)));
    } else if (op < 0.5 && pages[vpn] !== null) {
      what = 'write page';
      const data = rand() < 0.8 ? pick(alphabet) : randomBytes(rand, PAGE_SIZE);
      if (b.write(id, vpn * PAGE_SIZE, data) === 0) pages[vpn] = data.slice();
    } else if (op < 0.55 && pages[vpn] !== null) {
      what = 'write bytes';
      const at = Math.floor(rand() * PAGE_SIZE);
      const data = randomBytes(rand, 1 + Math.floor(rand() * 16));
      const page = pages[vpn] as Uint8Array;
      const fits = Math.min(data.length, PAGE_SIZE - at);
      if (b.write(id, vpn * PAGE_SIZE + at, data.subarray(0, fits)) === 0) page.set(data.subarray(0, fits), at);
    } else if (op < 0.7 && mapped) {
      const advice = pick<Advice>([MADV_MERGEABLE, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_DONTNEED]);
      what = `madvise ${advice}`;
      if (b.madvise(id, vpn, count, advice) === 0 && advice === MADV_DONTNEED) {
        for (let v = vpn; v < vpn + count; v++) pages[v] = new Uint8Array(PAGE_SIZE);
      }
    } else if (op < 0.74 && mapped) {
      what = 'unmap';
      b.unmap(id, vpn, count);
      for (let v = vpn; v < vpn + count; v++) pages[v] = null;
    } else if (op < 0.78 && ids.length < 6) {
      what = 'fork';
      const child = b.fork(id);
      shadow.set(child, pages.map((p) => (p === null ? null : p.slice())));
    } else if (op < 0.81 && ids.length > 1) {
      what = 'exit';
      b.exit(id);
      shadow.delete(id);
    } else if (op < 0.84) {
      what = 'merge-any';
      b.setMergeAny(id, rand() < 0.6);
    } else if (op < 0.86) {
      what = 'run=2';
      if (b.unmergeAll() === 0 && rand() < 0.5 && b.removeAllStableNodes() && b.counters().pagesShared === 0) {
        knobs = { ...knobs, maxPageSharing: 2 + Math.floor(rand() * 3) };
        b.setScanKnobs(knobs);
      }
    } else if (op < 0.9 && ids.length < 6) {
      what = 'new space';
      newSpace();
    } else {
      what = 'full pass';
      b.scanBatch(1e9, (now += 10));
    }
    const errors = b.verify();
    if (errors.length > 0) assert.unreachable(`seed ${seed} step ${step} (${what}): ${errors.join('; ')}`);
    for (const [sid, spagesAll] of shadow) {
      spagesAll.forEach((want, v) => {
        if (want === null) return;
        const got = b.pageView(sid, v);
        if (!bytesEqual(got, want)) assert.unreachable(`seed ${seed} step ${step} (${what}): space ${sid} page ${v} content`);
      });
    }
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

random.run();
