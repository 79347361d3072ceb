/**
 * Fingerprint records of pages (docs/fingerprints.md): the core's fingerprintPages on the caller's
 * bytes, one read of each page for its 128-bit fingerprint, the kernel's checksum and the zero flag.
 * The record layout (FP_*) comes from the core's build.
 *
 * The hashing runs in a core instance of its own (never an engine's): pages are copied into its
 * memory CHUNK_PAGES at a time and the records copied out, so any amount of input goes through a
 * fixed 1 MiB buffer. Generated pages (the scaled scenarios' plans, src/estimate/scaled.ts) are
 * made in that buffer and fingerprinted where they are.
 */
import { instantiateCoreSync } from '../core.js';
import {
  FP_CHECKSUM, FP_FINGERPRINT_HIGH, FP_FINGERPRINT_LOW, FP_FLAGS, FP_RECORD_SIZE, FP_ZERO, PAGE_SIZE, PLAN_WORDS,
} from '../generated/core-abi.js';
import type { CoreExports } from '../generated/core-abi.js';

export { FP_RECORD_SIZE, PLAN_WORDS };

/** Pages hashed per call into the core. */
const CHUNK_PAGES = 256;
/** The hashing instance's memory cap: its buffers and the core's fixed regions (≈ 0.5 MiB). */
const HASHER_MAX_MEMORY = 4 << 20;

/** A core instance that fingerprints pages; synchronous once made. */
export class PageHasher {
  readonly #core: CoreExports;
  readonly #input: number;
  readonly #output: number;
  readonly #plans: number;
  readonly #bytes: Uint8Array;

  constructor() {
    this.#core = instantiateCoreSync();
    if (this.#core.init(HASHER_MAX_MEMORY / 65536) !== 0) throw new RangeError('the page hasher does not fit its memory cap');
    this.#input = this.#core.reserveArena(CHUNK_PAGES * PAGE_SIZE) >>> 0;
    this.#output = this.#core.reserveArena(CHUNK_PAGES * FP_RECORD_SIZE) >>> 0;
    this.#plans = this.#core.reserveArena(CHUNK_PAGES * PLAN_WORDS * 4) >>> 0;
    if (this.#input === 0 || this.#output === 0 || this.#plans === 0) throw new RangeError('the page hasher does not fit its memory cap');
    // Memory does not grow after the arenas are reserved, so this view stays valid.
    this.#bytes = new Uint8Array(this.#core.memory.buffer);
  }

  /** Writes the records of `pages` (a whole number of pages) to `out` from byte `at`. */
  fingerprintInto(pages: Uint8Array, out: Uint8Array, at = 0): void {
    this.#recordsInto(pageCount(pages), out, at, (first, n) => this.#bytes.set(pages.subarray(first * PAGE_SIZE, (first + n) * PAGE_SIZE), this.#input));
  }

  /** Writes the records of the pages planned by `plans` (PLAN_WORDS words each) to `out` from byte `at`. */
  fingerprintPlanned(plans: Uint32Array, out: Uint8Array, at = 0): void {
    this.#recordsInto(planCount(plans), out, at, (first, n) => this.#generate(plans.subarray(first * PLAN_WORDS, (first + n) * PLAN_WORDS)));
  }

  /** The bytes of the pages planned by `plans`, written to `out` (room for them all). */
  generateInto(plans: Uint32Array, out: Uint8Array): void {
    eachChunk(planCount(plans), (first, n) => {
      this.#generate(plans.subarray(first * PLAN_WORDS, (first + n) * PLAN_WORDS));
      out.set(this.#bytes.subarray(this.#input, this.#input + n * PAGE_SIZE), first * PAGE_SIZE);
    });
  }

  /** Records of `count` pages to `out` from byte `at`, CHUNK_PAGES at a time: `fill` puts pages first..first+n-1 in the input buffer. */
  #recordsInto(count: number, out: Uint8Array, at: number, fill: (first: number, n: number) => void): void {
    if (out.length - at < count * FP_RECORD_SIZE) throw new RangeError(`room for ${count} records needed in the output`);
    eachChunk(count, (first, n) => {
      fill(first, n);
      this.#core.fingerprintPages(this.#input, n, this.#output);
      out.set(this.#bytes.subarray(this.#output, this.#output + n * FP_RECORD_SIZE), at + first * FP_RECORD_SIZE);
    });
  }

  /** Generates up to CHUNK_PAGES planned pages into the input buffer. */
  #generate(plans: Uint32Array): void {
    new Uint32Array(this.#bytes.buffer, this.#plans, plans.length).set(plans);
    this.#core.generateScenarioPages(this.#plans, plans.length / PLAN_WORDS, this.#input);
  }

  /** The records of `pages` (a whole number of pages), FP_RECORD_SIZE bytes each. */
  fingerprintPages(pages: Uint8Array): Uint8Array {
    const out = new Uint8Array(pageCount(pages) * FP_RECORD_SIZE);
    this.fingerprintInto(pages, out);
    return out;
  }
}

/** Pages [0, count) in runs of at most CHUNK_PAGES (what the hasher's buffers hold). */
function eachChunk(count: number, run: (first: number, n: number) => void): void {
  for (let first = 0; first < count; first += CHUNK_PAGES) run(first, Math.min(CHUNK_PAGES, count - first));
}

function pageCount(pages: Uint8Array): number {
  if (pages.length % PAGE_SIZE !== 0) throw new RangeError(`${pages.length} bytes is not a whole number of ${PAGE_SIZE}-byte pages`);
  return pages.length / PAGE_SIZE;
}

function planCount(plans: Uint32Array): number {
  if (plans.length % PLAN_WORDS !== 0) throw new RangeError(`${plans.length} words is not a whole number of ${PLAN_WORDS}-word plans`);
  return plans.length / PLAN_WORDS;
}

let shared: PageHasher | undefined;

/** This thread's shared hasher. */
export function sharedHasher(): PageHasher {
  shared ??= new PageHasher();
  return shared;
}

/** The records of `pages` (pages.length a multiple of 4096), by one hasher shared in this thread. */
export function fingerprintPages(pages: Uint8Array): Uint8Array {
  return sharedHasher().fingerprintPages(pages);
}

/** The records of the pages planned by `plans` (src/estimate/scaled.ts), by this thread's shared hasher. */
export function fingerprintPlanned(plans: Uint32Array): Uint8Array {
  const out = new Uint8Array((plans.length / PLAN_WORDS) * FP_RECORD_SIZE);
  sharedHasher().fingerprintPlanned(plans, out);
  return out;
}

// ---- one record (record `index` of `records`) ---------------------------------------------------

const view = (records: Uint8Array): DataView => new DataView(records.buffer, records.byteOffset, records.byteLength);

/** The 128-bit fingerprint as 32 hex digits, high half first. */
export function recordFingerprintHex(records: Uint8Array, index = 0): string {
  const v = view(records);
  const at = index * FP_RECORD_SIZE;
  const hex = (offset: number) => v.getBigUint64(at + offset, true).toString(16).padStart(16, '0');
  return hex(FP_FINGERPRINT_HIGH) + hex(FP_FINGERPRINT_LOW);
}

/** The kernel's checksum of the page (XXH64 seed 0, low 32 bits). */
export function recordChecksum(records: Uint8Array, index = 0): number {
  return view(records).getUint32(index * FP_RECORD_SIZE + FP_CHECKSUM, true);
}

/** All 4096 bytes of the page are zero. */
export function recordIsZero(records: Uint8Array, index = 0): boolean {
  return (view(records).getUint32(index * FP_RECORD_SIZE + FP_FLAGS, true) & FP_ZERO) !== 0;
}

/** Where a record's shard bits are (shardBits): the high half's top 32 bits, little-endian. */
export const SHARD_BITS_OFFSET = FP_FINGERPRINT_HIGH + 4;

/**
 * The 32 bits of a record that content shards are dealt by (src/shards/balance.ts): the top 32 bits
 * of the fingerprint's high half, 0 for the zero page. A function of the fingerprint alone, so equal
 * pages have equal bits, on any machine. (They are not the checksum's, which come from the low half.)
 */
export function shardBits(records: Uint8Array, index = 0): number {
  return view(records).getUint32(index * FP_RECORD_SIZE + SHARD_BITS_OFFSET, true);
}
