/**
 * Which shard each page goes to: whole contents, balanced as they come.
 *
 * Equal pages must land in one shard, so a content is never split. But one content can be large
 * (the zero page is 10 % of the clones scenario, more on an idle host), and dealt by its hash alone
 * it makes its shard that much larger than the others: on the fleet, 56 % of the pages in one of
 * two shards, and the run waits for that one. So the deal goes by buckets: a page's bucket is the
 * top BUCKET_BITS of its fingerprint's shard bits (shardBits, src/fingerprint/hash.ts), and a
 * bucket goes to a shard when its first page comes, to the shard that has the fewest pages so far.
 * Every later page of the bucket follows it, so a content stays whole, and a shard that took a
 * large content early takes fewer new buckets after.
 *
 * The deal is a function of the pages' contents in the order they are dealt (inputs in order,
 * pages in address order) and of the number of shards: the same on every run and every machine.
 * So `estimate --threads` and each map/reduce job (`estimate --from FILE --shard I/K`, which deals
 * the files' records in the same order) deal alike. The counters depend on neither: a shard's
 * counters depend only on the contents it holds (docs/fingerprint-file.md).
 */
import { FP_RECORD_SIZE, SHARD_BITS_OFFSET } from '../fingerprint/hash.js';

/** 2^20 buckets (a 2 MiB table): on a host of millions of contents, new buckets keep coming for most of the read. */
const BUCKET_BITS = 20;
const UNDEALT = 0xffff;
/** The most shards one run may be split into (`--shard I/K`'s K too): they are numbered below UNDEALT. */
export const MAX_SHARDS = UNDEALT;

/** Records in a byte array: `count` of them, `stride` bytes apart, the first record at `first`. */
export interface RecordLayout { count: number; stride: number; first: number }

/** The bucket of each record laid out in `bytes` as `layout` says: the top of its shardBits. */
function bucketsOf(bytes: Uint8Array, layout: RecordLayout): Uint32Array {
  const out = new Uint32Array(layout.count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0, at = layout.first + SHARD_BITS_OFFSET; i < layout.count; i++, at += layout.stride) out[i] = view.getUint32(at, true) >>> (32 - BUCKET_BITS);
  return out;
}

export class ContentDeal {
  readonly #shardOfBucket = new Uint16Array(1 << BUCKET_BITS).fill(UNDEALT);
  readonly #lightest: LightestShard;

  constructor(readonly shards: number) {
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) throw new RangeError(`shard count ${shards} is not an integer from 1 to ${MAX_SHARDS}`);
    this.#lightest = new LightestShard(shards);
  }

  /** Deals the next pages (their records, back to back): the shard of each. */
  deal(records: Uint8Array): Uint16Array {
    return this.dealIn(records, { count: records.length / FP_RECORD_SIZE, stride: FP_RECORD_SIZE, first: 0 });
  }

  /** Deals the next pages, their records laid out in `bytes` as `layout` says: the shard of each. */
  dealIn(bytes: Uint8Array, layout: RecordLayout): Uint16Array {
    const out = new Uint16Array(layout.count);
    if (this.shards === 1) return out;
    const buckets = bucketsOf(bytes, layout);
    for (let i = 0; i < buckets.length; i++) {
      let shard = this.#shardOfBucket[buckets[i]];
      if (shard === UNDEALT) this.#shardOfBucket[buckets[i]] = shard = this.#lightest.shard;
      this.#lightest.add(shard);
      out[i] = shard;
    }
    return out;
  }

  /**
   * The shard of each record laid out in `bytes` as `layout` says, once every page has been dealt:
   * a bucket never moves, so a page's shard is its bucket's (a RangeError for a bucket no page was
   * dealt to).
   */
  shardsOfDealt(bytes: Uint8Array, layout: RecordLayout): Uint16Array {
    const out = new Uint16Array(layout.count);
    if (this.shards === 1) return out;
    const buckets = bucketsOf(bytes, layout);
    for (let i = 0; i < buckets.length; i++) {
      out[i] = this.#shardOfBucket[buckets[i]];
      if (out[i] === UNDEALT) throw new RangeError('a page whose contents were never dealt');
    }
    return out;
  }

  /** Pages dealt to each shard so far. */
  get pages(): number[] { return this.#lightest.pages(); }
}

/**
 * The shard with the fewest pages (the lowest-numbered of those tied), kept up to date page by page
 * in a tournament tree: each inner node holds the lighter of its two children, so adding a page
 * replays the matches on one path (log2 of the shard count) instead of looking at every shard,
 * which at `--shard I/65535` made the deal of 2^20 buckets take over a minute.
 */
class LightestShard {
  readonly #leaves: number;
  readonly #pages: Float64Array;
  /** Node n's winner (a shard); the leaves are nodes #leaves + shard, the root node 1. */
  readonly #winner: Int32Array;

  constructor(readonly shards: number) {
    let leaves = 1;
    while (leaves < shards) leaves *= 2;
    this.#leaves = leaves;
    this.#pages = new Float64Array(leaves).fill(Infinity, shards); // padding shards never win
    this.#winner = new Int32Array(2 * leaves);
    for (let s = 0; s < leaves; s++) this.#winner[leaves + s] = s;
    for (let n = leaves - 1; n >= 1; n--) this.#winner[n] = this.#match(n);
  }

  get shard(): number { return this.#winner[1]; }

  add(shard: number): void {
    this.#pages[shard]++;
    for (let n = (this.#leaves + shard) >> 1; n >= 1; n >>= 1) this.#winner[n] = this.#match(n);
  }

  pages(): number[] { return [...this.#pages.subarray(0, this.shards)]; }

  #match(n: number): number {
    const left = this.#winner[2 * n];
    const right = this.#winner[2 * n + 1];
    return this.#pages[right] < this.#pages[left] ? right : left;
  }
}
