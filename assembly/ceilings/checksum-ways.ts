// Bench only, never part of the core (bench/checksum-ceiling.ts compiles it): the kernel's page
// checksum, XXH64 of 4096 bytes, arranged three ways, to show what bounds every pass that must
// checksum each page (pass 1, fingerprinting). XXH64 makes two 64-bit multiplies per 8 bytes, each
// lane a chain of them; one page keeps four chains going. If the multiplier had throughput to
// spare, eight chains (two pages at once) would run faster; if 64-bit vector multiplies were
// cheap, two pages in the two lanes of a vector would.
import { LANE1_INIT, LANE2_INIT, LANE3_INIT, LANE4_INIT, PRIME1, PRIME2, avalanche, convergeLanes, pageChecksum, round } from '../checksum';

@inline function finish(v1: u64, v2: u64, v3: u64, v4: u64): u32 {
  return <u32>avalanche(convergeLanes(v1, v2, v3, v4) + 4096);
}

/** The engine's own checksum, page after page. */
export function onePageAtATime(at: u32, pages: u32): u32 {
  let x: u32 = 0;
  for (let i: u32 = 0; i < pages; i++) x ^= pageChecksum(at + i * 4096);
  return x;
}

/** Pages in pairs, their eight lanes interleaved in one loop. */
export function twoPagesInterleaved(at: u32, pages: u32): u32 {
  let x: u32 = 0;
  for (let i: u32 = 0; i + 1 < pages; i += 2) {
    const a = at + i * 4096;
    let v1 = LANE1_INIT, v2 = LANE2_INIT, v3 = LANE3_INIT, v4 = LANE4_INIT;
    let w1 = LANE1_INIT, w2 = LANE2_INIT, w3 = LANE3_INIT, w4 = LANE4_INIT;
    for (let p = a, end = a + 4096; p < end; p += 32) {
      v1 = round(v1, load<u64>(p)); w1 = round(w1, load<u64>(p, 4096));
      v2 = round(v2, load<u64>(p, 8)); w2 = round(w2, load<u64>(p, 4104));
      v3 = round(v3, load<u64>(p, 16)); w3 = round(w3, load<u64>(p, 4112));
      v4 = round(v4, load<u64>(p, 24)); w4 = round(w4, load<u64>(p, 4120));
    }
    x ^= finish(v1, v2, v3, v4) ^ finish(w1, w2, w3, w4);
  }
  return x;
}

@inline function vectorRound(acc: v128, input: v128): v128 {
  const sum = i64x2.add(acc, i64x2.mul(input, i64x2.splat(PRIME2)));
  return i64x2.mul(v128.or(i64x2.shl(sum, 31), i64x2.shr_u(sum, 33)), i64x2.splat(PRIME1));
}

/** Pages in pairs, lane j of both pages in one vector (i64x2.mul). */
export function twoPagesInVectors(at: u32, pages: u32): u32 {
  let x: u32 = 0;
  for (let i: u32 = 0; i + 1 < pages; i += 2) {
    const a = at + i * 4096;
    let v1 = i64x2.splat(LANE1_INIT), v2 = i64x2.splat(LANE2_INIT), v3 = i64x2.splat(LANE3_INIT), v4 = i64x2.splat(LANE4_INIT);
    for (let p = a, end = a + 4096; p < end; p += 32) {
      const a01 = v128.load(p), a23 = v128.load(p, 16), b01 = v128.load(p, 4096), b23 = v128.load(p, 4112);
      v1 = vectorRound(v1, i64x2.shuffle(a01, b01, 0, 2));
      v2 = vectorRound(v2, i64x2.shuffle(a01, b01, 1, 3));
      v3 = vectorRound(v3, i64x2.shuffle(a23, b23, 0, 2));
      v4 = vectorRound(v4, i64x2.shuffle(a23, b23, 1, 3));
    }
    x ^= finish(i64x2.extract_lane(v1, 0), i64x2.extract_lane(v2, 0), i64x2.extract_lane(v3, 0), i64x2.extract_lane(v4, 0));
    x ^= finish(i64x2.extract_lane(v1, 1), i64x2.extract_lane(v2, 1), i64x2.extract_lane(v3, 1), i64x2.extract_lane(v4, 1));
  }
  return x;
}
