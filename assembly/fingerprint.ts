// A page's fingerprint record, from one read of the page: the kernel's checksum, a 128-bit
// fingerprint and the zero flag (docs/fingerprints.md).
//
// The fingerprint is two independent 64-bit hashes computed in one loop over the same bytes:
//   low  XXH64 of the page, seed 0, with checksum.ts's rounds: its low 32 bits are the kernel's
//        checksum, so the record carries that for free;
//   high a SIMD multiply-accumulate in the manner of XXH3 (not XXH3 itself): each 16-byte vector is
//        XORed with a key, its 32-bit halves multiplied (i64x2.extmul) and added to 8 u64 lanes, with
//        the data itself added lane-swapped (so a zero product loses nothing); the key steps on every
//        64-byte stripe (so stripes are not interchangeable), the lanes are scrambled every 1 KiB, and
//        folded and avalanched at the end with XXH64's merge round.
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

/** Adds the products of the 32-bit halves of data^key, and the data lane-swapped, to two accumulators. */
@inline function accumulatePair(acc: v128, data: v128, key: v128): v128 {
  const mixed = v128.xor(data, key);
  // Each u64 lane's low 32-bit half against its high half: [l0, l1, ·, ·] × [h0, h1, ·, ·].
  const lows = i32x4.shuffle(mixed, mixed, 0, 2, 0, 2);
  const highs = i32x4.shuffle(mixed, mixed, 1, 3, 1, 3);
  const products = i64x2.extmul_low_i32x4_u(lows, highs);
  return i64x2.add(i64x2.add(acc, products), i64x2.shuffle(data, data, 1, 0));
}

@inline function scramble(acc: v128): v128 {
  const mixed = v128.xor(v128.xor(acc, i64x2.shr_u(acc, 47)), SCRAMBLE);
  return i64x2.mul(mixed, i64x2.splat(SCRAMBLE_MUL));
}

@inline function foldPair(h: u64, acc: v128): u64 {
  return mergeRound(mergeRound(h, i64x2.extract_lane(acc, 0)), i64x2.extract_lane(acc, 1));
}

/** The fingerprint hashPage made last: its low and high halves. */
let hashLow: u64 = 0;
let hashHigh: u64 = 0;

/** The fingerprint of the zero page, once computed (zeroKnown). */
let zeroLow: u64 = 0;
let zeroHigh: u64 = 0;
let zeroKnown = false;

/**
 * Writes the record of the page at `page` to `out` (FP_RECORD_SIZE bytes). The zero flag is the
 * fingerprint's equality with the zero page's, the equality the fingerprint engine stands on
 * (docs/fingerprints.md); testing the bytes too cost the loop four ORs per 64 bytes.
 */
export function fingerprintPage(page: u32, out: u32): void {
  if (!zeroKnown) {
    hashPage(ZERO_FRAME_LOCATION);
    zeroLow = hashLow;
    zeroHigh = hashHigh;
    zeroKnown = true;
  }
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
  let key = KEY_START;
  let p = page;
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
      a0 = accumulatePair(a0, d0, v128.xor(key, SECRET0));
      a1 = accumulatePair(a1, d1, v128.xor(key, SECRET1));
      a2 = accumulatePair(a2, d2, v128.xor(key, SECRET2));
      a3 = accumulatePair(a3, d3, v128.xor(key, SECRET3));
      key = i64x2.add(key, KEY_STEP);
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
