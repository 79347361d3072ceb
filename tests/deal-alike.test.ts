/**
 * `estimate --threads K` and the K map/reduce jobs (`estimate --from FILE --shard I/K`) deal the
 * same pages to the same shards (src/shards/balance.ts): a job's shard holds exactly the pages the
 * threaded run gives that shard, with their records, for inputs with zero pages, repeated contents
 * and several spaces.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FP_RECORD_SIZE, fingerprintPages } from '../src/fingerprint/hash.js';
import { readFingerprintFile, writeFingerprintFile } from '../src/fingerprint/file.js';
import { dealRecords } from '../src/shards/deal-records.js';
import { hashHere } from '../src/shards/hash-ring.js';
import { shardSources } from '../src/shards/from-records.js';
import { PAGE_SIZE, type ImageSource } from '../src/estimate/source.js';
import { randomPage } from './helpers/pages.js';
import { prng } from '../src/prng.js';

const test = suite('threads and map/reduce jobs deal alike');

/** A space of `pages` pages: a fifth zero, the rest drawn from 300 contents shared by every space, or its own. */
function space(name: string, pages: number, seed: number): { source: ImageSource; bytes: Uint8Array } {
  const random = prng(seed);
  const bytes = new Uint8Array(pages * PAGE_SIZE);
  for (let i = 0; i < pages; i++) {
    const r = random();
    if (r < 0.2) continue;
    bytes.set(randomPage(r < 0.7 ? `shared/${Math.floor(random() * 300)}` : `${name}/${i}`), i * PAGE_SIZE);
  }
  return { source: { name, pages, read: (sink) => sink(bytes) }, bytes };
}

/** Per shard, per space: the page indices and records dealt there. */
type Deal = Map<string, { pages: number[]; records: Uint8Array[] }>;
const key = (shard: number, space: number) => `${shard}/${space}`;

test('each job\'s shard holds the pages and records the threaded run deals to it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksm-deal-'));
  try {
    const spaces = [space('a', 1500, 1), space('b', 2200, 2), space('c', 900, 3)];
    const sources = spaces.map((s) => s.source);
    const file = join(dir, 'host.kfp');
    writeFingerprintFile(file, sources);
    for (const k of [2, 3, 5]) {
      const threaded: Deal = new Map();
      dealRecords(sources, k, [hashHere], (shard, batch) => {
        const at = threaded.get(key(shard, batch.space)) ?? { pages: [], records: [] };
        at.pages.push(...batch.pages);
        for (let i = 0; i < batch.pages.length; i++) at.records.push(batch.records.slice(i * FP_RECORD_SIZE, (i + 1) * FP_RECORD_SIZE));
        threaded.set(key(shard, batch.space), at);
      });
      let total = 0;
      for (let shard = 0; shard < k; shard++) {
        const job = shardSources([readFingerprintFile(file)], { index: shard, count: k });
        job.forEach((source, s) => {
          const want = threaded.get(key(shard, s)) ?? { pages: [], records: [] };
          assert.is(source.pages, want.pages.length, `k=${k}, shard ${shard}, space ${s}: page count`);
          const got: Uint8Array[] = [];
          source.readRecords!((records) => { for (let i = 0; i < records.length / FP_RECORD_SIZE; i++) got.push(records.slice(i * FP_RECORD_SIZE, (i + 1) * FP_RECORD_SIZE)); });
          assert.equal(got, want.records, `k=${k}, shard ${shard}, space ${s}: the same records in the same order`);
          const originals = want.pages.map((p) => fingerprintPages(spaces[s].bytes.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE)));
          assert.equal(want.records, originals, 'the threaded deal kept each page\'s own record');
          total += source.pages;
        });
      }
      assert.is(total, 1500 + 2200 + 900, `k=${k}: every page in one shard`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
