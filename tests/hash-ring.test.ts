/**
 * The hashing ring (src/shards/hash-ring.ts) and the dealing of records (deal-records.ts): records
 * come out in the order the pages were read, whichever runner made them and whatever the input
 * (bytes, plans, records); each shard gets exactly its pages, with their records; a runner that
 * fails stops the reader with an error.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FP_RECORD_SIZE, PageHasher, fingerprintPages } from '../src/fingerprint/hash.js';
import { ContentDeal } from '../src/shards/balance.js';
import { FAILED, HashRing, runHashJob, type HashJob } from '../src/shards/hash-ring.js';
import { dealRecords, type RecordBatch } from '../src/shards/deal-records.js';
import { openScaledScenario } from '../src/estimate/scaled.js';
import { CHUNK_BYTES, PAGE_SIZE, type ImageSource } from '../src/estimate/source.js';
import { randomPage } from './helpers/pages.js';

const test = suite('hash ring and record dealing');
const hasher = new PageHasher();

/** `n` pages, every 5th a repeat of an earlier one. */
function pages(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * PAGE_SIZE);
  for (let i = 0; i < n; i++) out.set(i % 5 === 4 ? out.subarray(0, PAGE_SIZE) : randomPage(`${seed}/${i}`), i * PAGE_SIZE);
  return out;
}

test('records come out in read order, whichever runner finishes first, bytes, plans and records alike', () => {
  // Jobs are held back and run in reverse order of submission, as slow threads would finish them.
  const held: HashJob[] = [];
  const runners = [0, 1, 2].map(() => (job: HashJob) => { held.push(job); if (held.length === 3) for (const j of held.splice(0).reverse()) runHashJob(j, hasher); });
  const out: Array<{ space: number; first: number; records: Uint8Array }> = [];
  const ring = new HashRing(runners, (records, space, first) => out.push({ space, first, records: records.slice() }));
  const a = pages(300, 1);
  const b = pages(40, 2);
  ring.bytes(a.subarray(0, 256 * PAGE_SIZE), 0, 0);
  ring.bytes(a.subarray(256 * PAGE_SIZE), 0, 256);
  ring.records(fingerprintPages(b), 1, 10);
  const [guest] = openScaledScenario('clones', 8 * 20 * PAGE_SIZE);
  guest.readPlans!((plans, page) => ring.plans(plans, 2, page));
  while (held.length) runHashJob(held.shift()!, hasher);
  ring.finish();
  assert.equal(out.map((o) => [o.space, o.first]), [[0, 0], [0, 256], [1, 10], [2, 0]]);
  assert.equal(out[0].records, fingerprintPages(a.subarray(0, 256 * PAGE_SIZE)));
  assert.equal(out[1].records, fingerprintPages(a.subarray(256 * PAGE_SIZE)));
  assert.equal(out[2].records, fingerprintPages(b));
  const guestBytes: Uint8Array[] = [];
  guest.read((chunk) => guestBytes.push(chunk.slice()));
  assert.equal(out[3].records, fingerprintPages(new Uint8Array(Buffer.concat(guestBytes))));
});

test('each shard gets exactly its pages, in address order, with their records', () => {
  const bytes = pages(CHUNK_BYTES / PAGE_SIZE + 77, 3);
  const source: ImageSource = { name: 'one', pages: bytes.length / PAGE_SIZE, read: (sink) => sink(bytes) };
  const all = fingerprintPages(bytes);
  const dealt = new ContentDeal(3).deal(all); // the deal of these pages in this order
  const got = new Map<number, RecordBatch[]>();
  dealRecords([source], 3, [(job) => runHashJob(job, hasher)], (shard, batch) => got.set(shard, [...(got.get(shard) ?? []), batch]));
  const seen = new Set<number>();
  for (const [shard, batches] of got) {
    let last = -1;
    for (const batch of batches) {
      batch.pages.forEach((page, i) => {
        assert.ok(page > last, 'address order');
        last = page;
        seen.add(page);
        assert.is(dealt[page], shard);
        assert.equal(batch.records.subarray(i * FP_RECORD_SIZE, (i + 1) * FP_RECORD_SIZE), all.subarray(page * FP_RECORD_SIZE, (page + 1) * FP_RECORD_SIZE));
      });
    }
  }
  assert.is(seen.size, source.pages);
});

test('a hashing thread that fails stops the reader with an error', () => {
  // What runHashJob leaves in the slot when the hashing throws (on a worker, the throw stays there).
  const failing = (job: HashJob) => { Atomics.store(job.control, job.slot, FAILED); };
  const ring = new HashRing([failing], () => assert.unreachable('no records from a failed chunk'));
  ring.bytes(pages(4, 4), 0, 0);
  assert.throws(() => ring.finish(), /failed to fingerprint/);
  // runHashJob marks the slot FAILED when the hashing throws (here: no room for the records).
  const job: HashJob = { slot: 0, control: new Int32Array(new SharedArrayBuffer(4)), input: 'bytes', pages: 1, data: new Uint8Array(PAGE_SIZE), plans: new Uint32Array(0), records: new Uint8Array(8) };
  assert.throws(() => runHashJob(job, hasher), /room for 1 records/);
  assert.is(Atomics.load(job.control, 0), FAILED);
});

test.run();
