// A page's fingerprint record, from one read of the page: the kernel's checksum, a 128-bit
// fingerprint and the zero flag (docs/fingerprints.md).
//
// The fingerprint is two independent 64-bit hashes computed in one loop over the same bytes:
//   low  XXH64 of the page, seed 0, with checksum.ts's rounds: its low 32 bits are the kernel's
//        checksum, so the record carries that for free;
//   high a SIMD multiply-accumulate in the manner of XXH3 (not XXH3 itself): each 16-byte vector is
//        XORed with its key, the vectors taken in pairs and their 32-bit words multiplied word by word
//        (i64x2.extmul, 32×32→64) into 8 u64 lanes, with the data itself added lane-swapped (so a
//        zero product loses nothing); the keys differ on every 64-byte stripe (so stripes are not
//        interchangeable), the lanes are scrambled every 1 KiB, and folded and avalanched at the end
//        with XXH64's merge round.
// XXH64's scalar multiplies bound the loop; the vector work runs beside them on other ports.
import {
  FP_FINGERPRINT_HIGH, FP_FINGERPRINT_LOW, FP_CHECKSUM, FP_FLAGS, FP_RECORD_SIZE, FP_ZERO, PAGE_SIZE, ZERO_FRAME_LOCATION,
} from './layout';
import {
  LANE1_INIT, LANE2_INIT, LANE3_INIT, LANE4_INIT, PRIME1, PRIME5, avalanche, convergeLanes, mergeRound, round,
} from './checksum';

/** Bytes per stripe (four vectors, two XXH64 blocks). */
const STRIPE: u32 = 64;
/** Stripes between two scrambles of the accumulators (1 KiB, as XXH3's block). */
const STRIPES_PER_BLOCK: u32 = 16;

// The secret: fixed odd-looking constants (outputs of splitmix64 on 1, 2, 3, ...), one per vector
// of a stripe, a key start and its step, and the scramble's.
const SECRET0 = i64x2(0x910a2dec89025cc1, 0xbeeb8da1658eec67);
const SECRET1 = i64x2(0xf893a2eefb32555e, 0x71c18690ee42c90b);
const SECRET2 = i64x2(0x71bb54d8d101b5b9, 0xc34d0bff90150280);
const SECRET3 = i64x2(0xe099ec6cd7363ca5, 0x6e9dbb3d8ab5ea57);
const KEY_START = i64x2(0x2d358dccaa6c78a5, 0x8bb84b93962eacc9);
/** Odd, so 64 steps give 64 different keys. */
const KEY_STEP = i64x2(0x9e3779b97f4a7c15, 0xd1b54a32d192ed03);
const SCRAMBLE = i64x2(0x4b33a62ed433d4a3, 0x4d5a2da51de1aa47);
/** XXH3's PRIME32_1, the scramble's multiplier. */
const SCRAMBLE_MUL: u64 = 0x9e3779b1;

// The products of the 32-bit words of two key-mixed vectors, word by word: words 0 and 1 (low) or 2
// and 3 (high). Pairing two vectors' words takes one unpack each per product; pairing each lane's
// halves, as XXH3 does, took two more shuffles per vector here (WebAssembly has no pmuludq).
@inline function productsLow(a: v128, b: v128): v128 { return i64x2.extmul_low_i32x4_u(a, b); }
@inline function productsHigh(a: v128, b: v128): v128 { return i64x2.extmul_high_i32x4_u(a, b); }
@inline function swapped(data: v128): v128 { return i64x2.shuffle(data, data, 1, 0); }

@inline function scramble(acc: v128): v128 {
  const mixed = v128.xor(v128.xor(acc, i64x2.shr_u(acc, 47)), SCRAMBLE);
  return i64x2.mul(mixed, i64x2.splat(SCRAMBLE_MUL));
}

@inline function foldPair(h: u64, acc: v128): u64 {
  return mergeRound(mergeRound(h, i64x2.extract_lane(acc, 0)), i64x2.extract_lane(acc, 1));
}

/** Bytes of keys: 64 (four vectors) for each of a page's 64 stripes. */
const KEYS_SIZE: u32 = (PAGE_SIZE / STRIPE) * 64;
/** Each stripe's four keys (key ^ SECRETi, the key stepping by KEY_STEP), made once: loads, not constants built in the loop. */
const KEYS: u32 = <u32>memory.data(KEYS_SIZE, 16);

function makeKeys(): void {
  let key = KEY_START;
  for (let at = KEYS, end = KEYS + KEYS_SIZE; at < end; at += STRIPE) {
    v128.store(at, v128.xor(key, SECRET0));
    v128.store(at, v128.xor(key, SECRET1), 16);
    v128.store(at, v128.xor(key, SECRET2), 32);
    v128.store(at, v128.xor(key, SECRET3), 48);
    key = i64x2.add(key, KEY_STEP);
  }
}

/** The fingerprint hashPage made last: its low and high halves. */
let hashLow: u64 = 0;
let hashHigh: u64 = 0;

/** The fingerprint of the zero page. */
let zeroLow: u64 = 0;
let zeroHigh: u64 = 0;
/** The keys and the zero page's fingerprint are made. */
let prepared = false;

function prepare(): void {
  makeKeys();
  hashPage(ZERO_FRAME_LOCATION);
  zeroLow = hashLow;
  zeroHigh = hashHigh;
  prepared = true;
}

/**
 * Writes the record of the page at `page` to `out` (FP_RECORD_SIZE bytes). The zero flag is the
 * fingerprint's equality with the zero page's, the equality the fingerprint engine stands on
 * (docs/fingerprints.md); testing the bytes too cost the loop four ORs per 64 bytes.
 */
export function fingerprintPage(page: u32, out: u32): void {
  if (!prepared) prepare();
  hashPage(page);
  const low = hashLow, high = hashHigh;
  store<u64>(out, low, FP_FINGERPRINT_LOW);
  store<u64>(out, high, FP_FINGERPRINT_HIGH);
  store<u32>(out, <u32>low, FP_CHECKSUM);
  store<u32>(out, low == zeroLow && high == zeroHigh ? FP_ZERO : 0, FP_FLAGS);
}

/** The page's two 64-bit hashes, from one read, to hashLow and hashHigh. */
function hashPage(page: u32): void {
  let v1 = LANE1_INIT;
  let v2 = LANE2_INIT;
  let v3 = LANE3_INIT;
  let v4 = LANE4_INIT;
  let a0 = SECRET3;
  let a1 = SECRET2;
  let a2 = SECRET1;
  let a3 = SECRET0;
  let p = page;
  let keys = KEYS;
  for (let block: u32 = 0; block < PAGE_SIZE / (STRIPE * STRIPES_PER_BLOCK); block++) {
    for (let stripe: u32 = 0; stripe < STRIPES_PER_BLOCK; stripe++) {
      const w0 = load<u64>(p);
      const w1 = load<u64>(p, 8);
      const w2 = load<u64>(p, 16);
      const w3 = load<u64>(p, 24);
      const w4 = load<u64>(p, 32);
      const w5 = load<u64>(p, 40);
      const w6 = load<u64>(p, 48);
      const w7 = load<u64>(p, 56);
      v1 = round(round(v1, w0), w4);
      v2 = round(round(v2, w1), w5);
      v3 = round(round(v3, w2), w6);
      v4 = round(round(v4, w3), w7);
      // The same bytes as vectors: loads from the cache line just read, not a second pass over memory.
      const d0 = v128.load(p);
      const d1 = v128.load(p, 16);
      const d2 = v128.load(p, 32);
      const d3 = v128.load(p, 48);
      const m0 = v128.xor(d0, v128.load(keys));
      const m1 = v128.xor(d1, v128.load(keys, 16));
      const m2 = v128.xor(d2, v128.load(keys, 32));
      const m3 = v128.xor(d3, v128.load(keys, 48));
      a0 = i64x2.add(i64x2.add(a0, productsLow(m0, m1)), swapped(d1));
      a1 = i64x2.add(i64x2.add(a1, productsHigh(m0, m1)), swapped(d0));
      a2 = i64x2.add(i64x2.add(a2, productsLow(m2, m3)), swapped(d3));
      a3 = i64x2.add(i64x2.add(a3, productsHigh(m2, m3)), swapped(d2));
      keys += STRIPE;
      p += STRIPE;
    }
    a0 = scramble(a0);
    a1 = scramble(a1);
    a2 = scramble(a2);
    a3 = scramble(a3);
  }
  hashLow = avalanche(convergeLanes(v1, v2, v3, v4) + <u64>PAGE_SIZE);
  let h: u64 = <u64>PAGE_SIZE * PRIME5;
  h = foldPair(foldPair(foldPair(foldPair(h, a0), a1), a2), a3);
  hashHigh = avalanche(h * PRIME1);
}

/** Records of `count` consecutive pages at `src`, to `out` (count × FP_RECORD_SIZE bytes). */
export function fingerprintRun(src: u32, count: u32, out: u32): void {
  for (let i: u32 = 0; i < count; i++) fingerprintPage(src + i * PAGE_SIZE, out + i * FP_RECORD_SIZE);
}
