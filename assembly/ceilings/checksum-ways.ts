// Bench only, never part of the core (bench/checksum-ceiling.ts compiles it): the kernel's page
// checksum, XXH64 of 4096 bytes, arranged three ways, to show what bounds every pass that must
// checksum each page (pass 1, fingerprinting). XXH64 makes two 64-bit multiplies per 8 bytes, each
// lane a chain of them; one page keeps four chains going. If the multiplier had throughput to
// spare, eight chains (two pages at once) would run faster; if 64-bit vector multiplies were
// cheap, two pages in the two lanes of a vector would. The two-page loops take 64 bytes of each
// page a step (pageChecksum, 128 of its one page), and the vector one loads its multipliers (as
// v128 constants V8 builds them again on every step: fingerprint.ts).
import { PAGE_SIZE } from '../layout';
import { LANE1_INIT, LANE2_INIT, LANE3_INIT, LANE4_INIT, PRIME1, PRIME2, finishPage, pageChecksum, round } from '../checksum';

/** The engine's own checksum, page after page. */
export function onePageAtATime(at: u32, pages: u32): u32 {
  let x: u32 = 0;
  for (let i: u32 = 0; i < pages; i++) x ^= pageChecksum(at + i * PAGE_SIZE);
  return x;
}

/** Pages in pairs (a page and the next), their eight lanes interleaved in one loop. */
export function twoPagesInterleaved(at: u32, pages: u32): u32 {
  let x: u32 = 0;
  for (let i: u32 = 0; i + 1 < pages; i += 2) {
    const a = at + i * PAGE_SIZE;
    let v1 = LANE1_INIT, v2 = LANE2_INIT, v3 = LANE3_INIT, v4 = LANE4_INIT;
    let w1 = LANE1_INIT, w2 = LANE2_INIT, w3 = LANE3_INIT, w4 = LANE4_INIT;
    for (let p = a, end = a + PAGE_SIZE; p < end; p += 64) {
      v1 = round(round(v1, load<u64>(p)), load<u64>(p, 32)); w1 = round(round(w1, load<u64>(p, 4096)), load<u64>(p, 4128));
      v2 = round(round(v2, load<u64>(p, 8)), load<u64>(p, 40)); w2 = round(round(w2, load<u64>(p, 4104)), load<u64>(p, 4136));
      v3 = round(round(v3, load<u64>(p, 16)), load<u64>(p, 48)); w3 = round(round(w3, load<u64>(p, 4112)), load<u64>(p, 4144));
      v4 = round(round(v4, load<u64>(p, 24)), load<u64>(p, 56)); w4 = round(round(w4, load<u64>(p, 4120)), load<u64>(p, 4152));
    }
    x ^= finishPage(v1, v2, v3, v4) ^ finishPage(w1, w2, w3, w4);
  }
  return x;
}

/** PRIME2 and PRIME1 in both lanes of a vector, loaded in the loop. */
const VECTOR_PRIMES: u32 = <u32>memory.data<u64>([PRIME2, PRIME2, PRIME1, PRIME1], 16);

@inline function vectorRound(acc: v128, input: v128): v128 {
  const sum = i64x2.add(acc, i64x2.mul(input, v128.load(VECTOR_PRIMES)));
  return i64x2.mul(v128.or(i64x2.shl(sum, 31), i64x2.shr_u(sum, 33)), v128.load(VECTOR_PRIMES, 16));
}

@inline function low(v: v128): u64 { return i64x2.extract_lane(v, 0); }
@inline function high(v: v128): u64 { return i64x2.extract_lane(v, 1); }

/** Pages in pairs, lane j of both pages in one vector (i64x2.mul). */
export function twoPagesInVectors(at: u32, pages: u32): u32 {
  let x: u32 = 0;
  for (let i: u32 = 0; i + 1 < pages; i += 2) {
    const a = at + i * PAGE_SIZE;
    let v1 = i64x2.splat(LANE1_INIT), v2 = i64x2.splat(LANE2_INIT), v3 = i64x2.splat(LANE3_INIT), v4 = i64x2.splat(LANE4_INIT);
    for (let p = a, end = a + PAGE_SIZE; p < end; p += 64) {
      let a01 = v128.load(p), a23 = v128.load(p, 16), b01 = v128.load(p, 4096), b23 = v128.load(p, 4112);
      v1 = vectorRound(v1, i64x2.shuffle(a01, b01, 0, 2));
      v2 = vectorRound(v2, i64x2.shuffle(a01, b01, 1, 3));
      v3 = vectorRound(v3, i64x2.shuffle(a23, b23, 0, 2));
      v4 = vectorRound(v4, i64x2.shuffle(a23, b23, 1, 3));
      a01 = v128.load(p, 32); a23 = v128.load(p, 48); b01 = v128.load(p, 4128); b23 = v128.load(p, 4144);
      v1 = vectorRound(v1, i64x2.shuffle(a01, b01, 0, 2));
      v2 = vectorRound(v2, i64x2.shuffle(a01, b01, 1, 3));
      v3 = vectorRound(v3, i64x2.shuffle(a23, b23, 0, 2));
      v4 = vectorRound(v4, i64x2.shuffle(a23, b23, 1, 3));
    }
    x ^= finishPage(low(v1), low(v2), low(v3), low(v4)) ^ finishPage(high(v1), high(v2), high(v3), high(v4));
  }
  return x;
}
