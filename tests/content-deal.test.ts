/**
 * The deal of pages to content shards (src/shards/balance.ts): a content never split, however the
 * pages come in; a large content (the zero page) balanced against by the other shards; the lightest
 * shard found as a plain scan finds it; the same pages in the same order dealt alike; bad shard
 * counts refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FP_RECORD_SIZE, fingerprintPages, recordFingerprintHex, shardBits } from '../src/fingerprint/hash.js';
import { ContentDeal } from '../src/shards/balance.js';
import { PAGE_SIZE } from '../src/estimate/source.js';
import { randomPage } from './helpers/pages.js';
import { prng } from '../src/prng.js';

const test = suite('content deal');

/** Records of `n` pages: a share `zeros` of zero pages, the rest drawn from `classes` contents (0: every page its own). */
function records(n: number, zeros: number, classes: number, seed: number): Uint8Array {
  const random = prng(seed);
  const bytes = new Uint8Array(n * PAGE_SIZE);
  for (let i = 0; i < n; i++) {
    if (random() < zeros) continue;
    bytes.set(randomPage(`${seed}/${classes > 0 ? Math.floor(random() * classes) : i}`), i * PAGE_SIZE);
  }
  return fingerprintPages(bytes);
}

/** Deals `all` in chunks of random sizes (1 to 300 records). */
function dealInChunks(deal: ContentDeal, all: Uint8Array, seed: number): Uint16Array {
  const random = prng(seed);
  const n = all.length / FP_RECORD_SIZE;
  const out = new Uint16Array(n);
  for (let at = 0; at < n;) {
    const end = Math.min(n, at + 1 + Math.floor(random() * 300));
    out.set(deal.deal(all.subarray(at * FP_RECORD_SIZE, end * FP_RECORD_SIZE)), at);
    at = end;
  }
  return out;
}

const shares = (shards: Uint16Array, k: number): number[] => {
  const counts = new Array<number>(k).fill(0);
  for (const s of shards) counts[s]++;
  return counts.map((c) => c / shards.length);
};

test('a content is never split, and a page\'s shard after the deal is the one it was dealt to', () => {
  for (const k of [2, 3, 7]) {
    const all = records(3000, 0.1, 200, k);
    const deal = new ContentDeal(k);
    const dealt = dealInChunks(deal, all, k);
    const shardOfContent = new Map<string, number>();
    for (let i = 0; i < dealt.length; i++) {
      const hex = recordFingerprintHex(all, i);
      assert.is(shardOfContent.get(hex) ?? dealt[i], dealt[i], `k=${k}: ${hex} split`);
      shardOfContent.set(hex, dealt[i]);
      assert.ok(dealt[i] < k);
    }
    assert.equal(deal.shardsOfDealt(all, { count: 3000, stride: FP_RECORD_SIZE, first: 0 }), dealt, `k=${k}: a page's shard after the deal is the one it was dealt to`);
    assert.is(deal.pages.reduce((a, b) => a + b, 0), 3000);
  }
});

test('a large content is balanced against: the other shards take more of the rest', () => {
  // 30 % zero pages among unique ones. By the hash alone the zero page's shard takes 30 % + its share of the rest.
  const all = records(20000, 0.3, 0, 11);
  for (const k of [2, 3]) {
    const byHash = new Uint16Array(20000).map((_, i) => shardBits(all, i) % k);
    const hashed = Math.max(...shares(byHash, k));
    assert.ok(hashed > 0.3 + 0.7 / k - 0.02, `k=${k}: the hash alone puts ${hashed} in one shard`);
    const balanced = Math.max(...shares(dealInChunks(new ContentDeal(k), all, 5), k));
    assert.ok(balanced < 1 / k + 0.01, `k=${k}: the largest shard holds ${balanced}`);
  }
  // A content larger than a shard's share is its shard's whole load.
  const zeroShare = shares(new ContentDeal(7).deal(all), 7).sort((a, b) => b - a);
  assert.ok(zeroShare[0] >= 0.28 && zeroShare[0] < 0.32, `zero page's shard: ${zeroShare[0]}`);
  assert.ok(zeroShare[1] < 0.7 / 6 + 0.01, `the others: ${zeroShare.slice(1)}`);
});

test('the same pages in the same order are dealt alike, in chunks or at once', () => {
  const all = records(5000, 0.1, 500, 3);
  const once = new ContentDeal(3).deal(all);
  assert.equal(dealInChunks(new ContentDeal(3), all, 1), once);
  assert.equal(dealInChunks(new ContentDeal(3), all, 2), once);
  const entries = new Uint8Array(5000 * (4 + FP_RECORD_SIZE)); // records inside wider entries, as a fingerprint file holds them
  for (let i = 0; i < 5000; i++) entries.set(all.subarray(i * FP_RECORD_SIZE, (i + 1) * FP_RECORD_SIZE), i * (4 + FP_RECORD_SIZE) + 4);
  assert.equal(new ContentDeal(3).dealIn(entries, { count: 5000, stride: 4 + FP_RECORD_SIZE, first: 4 }), once);
});

/** The deal written the plain way: each new bucket to the lowest-numbered shard with the fewest pages. */
function plainDeal(all: Uint8Array, k: number): number[] {
  const shardOfBucket = new Map<number, number>();
  const pages = new Array<number>(k).fill(0);
  return Array.from({ length: all.length / FP_RECORD_SIZE }, (_, i) => {
    const bucket = shardBits(all, i) >>> 12;
    if (!shardOfBucket.has(bucket)) shardOfBucket.set(bucket, pages.indexOf(Math.min(...pages)));
    const shard = shardOfBucket.get(bucket)!;
    pages[shard]++;
    return shard;
  });
}

test('the lightest shard, kept in a tree, is the one a plain scan of every shard finds', () => {
  const all = records(4000, 0.2, 700, 21);
  for (const k of [2, 3, 5, 17, 100]) assert.equal([...new ContentDeal(k).deal(all)], plainDeal(all, k), `k=${k}`);
  const unique = records(3000, 0, 0, 4);
  const buckets = new Set(Array.from({ length: 3000 }, (_, i) => shardBits(unique, i) >>> 12)).size; // a few pages share a bucket
  const most = new ContentDeal(0xffff); // the most --shard allows: every bucket to a shard of its own, in order
  assert.is(Math.max(...most.deal(unique)), buckets - 1);
});

test('bad input: shard counts out of range, a page never dealt', () => {
  assert.equal([...new ContentDeal(1).deal(records(10, 0, 0, 1))], new Array(10).fill(0));
  for (const k of [0, -1, 1.5, 0x10000, Number.NaN]) assert.throws(() => new ContentDeal(k), /shard count/);
  const deal = new ContentDeal(2);
  deal.deal(records(10, 0, 0, 1));
  assert.throws(() => deal.shardsOfDealt(records(1, 0, 0, 99), { count: 1, stride: FP_RECORD_SIZE, first: 0 }), /never dealt/);
});

test.run();
