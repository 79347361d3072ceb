// A page's fingerprint record, from one read of the page: the kernel's checksum, a 128-bit
// fingerprint and the zero flag (docs/fingerprints.md).
//
// The fingerprint is two independent 64-bit hashes computed in one loop over the same bytes:
//   low  XXH64 of the page, seed 0, with checksum.ts's rounds: its low 32 bits are the kernel's
//        checksum, so the record carries that for free;
//   high sixteen 32-bit lanes, four vectors of four: the page's 32-bit words taken in turn by the
//        lanes (word i by lane i mod 16), each lane stepping lane = rotl32((lane ^ word) × K, 13)
//        with an odd multiplier K of its own, then the lanes folded with XXH64's merge round and
//        avalanched. Each step is a bijection of the lane for a fixed word and of the word for a
//        fixed lane, so two pages that differ in one word always hash to different high halves,
//        and a lane is a chain, so moving words around the page most likely changes it too. The
//        zero page's high half is written as 0 instead, so that it sorts first among fingerprints
//        as it does in memcmp's order (docs/fingerprints.md: on inputs with huge pages, where the
//        zero page's place shows).
// XXH64's scalar multiplies bound the loop. The high half is four vector multiplies per 64 bytes
// beside them: it took a SIMD multiply-accumulate in the manner of XXH3 (64-bit lanes of 32×32
// products, keys per stripe, scrambles) 24-27 % of the checksum's speed, this 10-20 %
// (docs/fingerprints.md, "The hash", which also says what the lanes do not guard against).
import {
  FP_FINGERPRINT_HIGH, FP_FINGERPRINT_LOW, FP_CHECKSUM, FP_FLAGS, FP_RECORD_SIZE, FP_ZERO, PAGE_SIZE, ZERO_FRAME_LOCATION,
} from './layout';
import {
  LANE1_INIT, LANE2_INIT, LANE3_INIT, LANE4_INIT, PRIME1, PRIME5, avalanche, convergeLanes, mergeRound, round,
} from './checksum';

/** Bytes per step of the loop (two XXH64 blocks, four vectors). */
const STRIPE: u32 = 64;

// The lanes' multipliers and starting values: the low 32 bits of splitmix64's first 32 outputs
// (seed 0), the multipliers made odd. The multipliers are loads from static data in the loop: as
// v128 constants beside the starting values, V8 built them again on every step (the loop ran at
// 75 % of the speed it has with loads, same module otherwise).
const MULTIPLIERS: u32 = <u32>memory.data<u32>([
  0x7b1dcdaf, 0xa1b965f5, 0x8009454f, 0x724c81ed,
  0x51a8749b, 0x747ea2eb, 0x1f4532e1, 0xc916ab3d,
  0x41c98ac3, 0x368cb0a7, 0x3cb13d09, 0x055bdef7,
  0xe0bbdb7b, 0x983aa92f, 0x00cc4d19, 0x971d80ab,
], 16);
const START0 = i32x4(0x75521255, 0x2b7f7f86, 0x83914f64, 0x5a4485ac);
const START1 = i32x4(0x100b9ed7, 0x1825f10d, 0x0dca2f6a, 0x7bd2634c);
const START2 = i32x4(0xf5407269, 0xdb4c4f7b, 0x92233300, 0x7de1d510);
const START3 = i32x4(0xb45c6316, 0x0f4d3872, 0x72f3454f, 0xa8e40225);

/** Four lanes take their next word each. */
@inline function step(lanes: v128, words: v128, k: v128): v128 {
  const mixed = i32x4.mul(v128.xor(lanes, words), k);
  return v128.or(i32x4.shl(mixed, 13), i32x4.shr_u(mixed, 19));
}

/** Folds a vector of lanes (as two 64-bit values) into h. */
@inline function foldPair(h: u64, lanes: v128): u64 {
  return mergeRound(mergeRound(h, i64x2.extract_lane(lanes, 0)), i64x2.extract_lane(lanes, 1));
}

/** The fingerprint hashPage made last: its low and high halves. */
let hashLow: u64 = 0;
let hashHigh: u64 = 0;

/** The fingerprint of the zero page. */
let zeroLow: u64 = 0;
let zeroHigh: u64 = 0;
/** The zero page's fingerprint is made. */
let prepared = false;

function prepare(): void {
  hashPage(ZERO_FRAME_LOCATION);
  zeroLow = hashLow;
  zeroHigh = hashHigh;
  prepared = true;
}

/**
 * Writes the record of the page at `page` to `out` (FP_RECORD_SIZE bytes). The zero flag is the
 * fingerprint's equality with the zero page's, the equality the fingerprint engine stands on
 * (docs/fingerprints.md); testing the bytes too cost the loop four ORs per 64 bytes. The zero
 * page's high half is written as 0 (another page's is 0 with odds 2^-64).
 */
export function fingerprintPage(page: u32, out: u32): void {
  if (!prepared) prepare();
  hashPage(page);
  const low = hashLow;
  // A page whose high half comes out 0 (odds 2^-64) and whose low half is the zero page's is
  // written as the zero page is, so it is flagged as the engine will see it (contentsAreZero).
  const zero = low == zeroLow && (hashHigh == zeroHigh || hashHigh == 0);
  store<u64>(out, low, FP_FINGERPRINT_LOW);
  store<u64>(out, zero ? 0 : hashHigh, FP_FINGERPRINT_HIGH);
  store<u32>(out, <u32>low, FP_CHECKSUM);
  store<u32>(out, zero ? FP_ZERO : 0, FP_FLAGS);
}

/** The page's two 64-bit hashes, from one read, to hashLow and hashHigh. */
function hashPage(page: u32): void {
  let v1 = LANE1_INIT;
  let v2 = LANE2_INIT;
  let v3 = LANE3_INIT;
  let v4 = LANE4_INIT;
  let a0 = START0;
  let a1 = START1;
  let a2 = START2;
  let a3 = START3;
  for (let p = page, end = page + PAGE_SIZE; p < end; p += STRIPE) {
    v1 = round(round(v1, load<u64>(p)), load<u64>(p, 32));
    v2 = round(round(v2, load<u64>(p, 8)), load<u64>(p, 40));
    v3 = round(round(v3, load<u64>(p, 16)), load<u64>(p, 48));
    v4 = round(round(v4, load<u64>(p, 24)), load<u64>(p, 56));
    // The same bytes as vectors: loads from the cache line just read, not a second pass over memory.
    a0 = step(a0, v128.load(p), v128.load(MULTIPLIERS));
    a1 = step(a1, v128.load(p, 16), v128.load(MULTIPLIERS, 16));
    a2 = step(a2, v128.load(p, 32), v128.load(MULTIPLIERS, 32));
    a3 = step(a3, v128.load(p, 48), v128.load(MULTIPLIERS, 48));
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
