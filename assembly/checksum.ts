// The page checksum, as the kernel computes it: xxhash64 of the page with seed 0, truncated to
// 32 bits. It only tells whether a page changed between two visits; equality is always memcmp.
// XXH64 is Yann Collet's xxHash (BSD-2); the constants are the algorithm's primes.

// The rounds are exported for fingerprint.ts, which runs the same XXH64 over a page in the loop
// that also computes the fingerprint's second half (one read of the page for both).
export const PRIME1: u64 = 11400714785074694791;
export const PRIME2: u64 = 14029467366897019727;
export const PRIME3: u64 = 1609587929392839161;
export const PRIME4: u64 = 9650029242287828579;
export const PRIME5: u64 = 2870177450012600261;

/** The four lanes' starting values (seed 0). */
export const LANE1_INIT: u64 = PRIME1 + PRIME2;
export const LANE2_INIT: u64 = PRIME2;
export const LANE3_INIT: u64 = 0;
export const LANE4_INIT: u64 = 0 - PRIME1;

@inline export function round(acc: u64, input: u64): u64 {
  return rotl<u64>(acc + input * PRIME2, 31) * PRIME1;
}

@inline export function mergeRound(acc: u64, value: u64): u64 {
  return (acc ^ round(0, value)) * PRIME1 + PRIME4;
}

/** The four lanes folded into one value (inputs of 32 bytes or more). */
@inline export function convergeLanes(v1: u64, v2: u64, v3: u64, v4: u64): u64 {
  let h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
  h = mergeRound(h, v1);
  h = mergeRound(h, v2);
  h = mergeRound(h, v3);
  return mergeRound(h, v4);
}

/** The final mix of every output bit with every other. */
@inline export function avalanche(h: u64): u64 {
  h ^= h >> 33;
  h *= PRIME2;
  h ^= h >> 29;
  h *= PRIME3;
  return h ^ (h >> 32);
}

/** XXH64 of `length` bytes at `ptr`, seed 0. */
export function xxh64(ptr: u32, length: u32): u64 {
  let h: u64;
  let p = ptr;
  const end = ptr + length;
  if (length >= 32) {
    let v1 = LANE1_INIT;
    let v2 = LANE2_INIT;
    let v3 = LANE3_INIT;
    let v4 = LANE4_INIT;
    const limit = end - 32;
    do {
      v1 = round(v1, load<u64>(p));
      v2 = round(v2, load<u64>(p, 8));
      v3 = round(v3, load<u64>(p, 16));
      v4 = round(v4, load<u64>(p, 24));
      p += 32;
    } while (p <= limit);
    h = convergeLanes(v1, v2, v3, v4);
  } else {
    h = PRIME5;
  }
  h += <u64>length;
  while (p + 8 <= end) {
    h = rotl<u64>(h ^ round(0, load<u64>(p)), 27) * PRIME1 + PRIME4;
    p += 8;
  }
  if (p + 4 <= end) {
    h = rotl<u64>(h ^ (<u64>load<u32>(p) * PRIME1), 23) * PRIME2 + PRIME3;
    p += 4;
  }
  while (p < end) {
    h = rotl<u64>(h ^ (<u64>load<u8>(p) * PRIME5), 11) * PRIME1;
    p++;
  }
  return avalanche(h);
}

// ---- the page checksum ------------------------------------------------------------------------
// xxh64 of one whole page, specialised: the length is known (no tail) and the loop does 128 bytes
// per step. The generic loop above spends about a quarter of its time on the loop itself (V8
// materialises the 64-bit primes again in every short iteration): in cache this one takes 466 ns
// a page against 633 (bench fleet suite, same run). Out of cache, pass 1 waits on memory and did
// not measurably move. Equal to <u32>xxh64(page, 4096) for every page (tests/core-primitives).

@inline export function finishPage(v1: u64, v2: u64, v3: u64, v4: u64): u32 {
  let h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
  h = mergeRound(h, v1);
  h = mergeRound(h, v2);
  h = mergeRound(h, v3);
  h = mergeRound(h, v4);
  h += 4096;
  h ^= h >> 33;
  h *= PRIME2;
  h ^= h >> 29;
  h *= PRIME3;
  h ^= h >> 32;
  return <u32>h;
}

/** The kernel's page checksum: xxhash64(page, 4096, 0) as u32. */
export function pageChecksum(page: u32): u32 {
  let v1: u64 = PRIME1 + PRIME2, v2: u64 = PRIME2, v3: u64 = 0, v4: u64 = 0 - PRIME1;
  for (let p = page, end = page + 4096; p < end; p += 128) {
    v1 = round(v1, load<u64>(p, 0));
    v2 = round(v2, load<u64>(p, 8));
    v3 = round(v3, load<u64>(p, 16));
    v4 = round(v4, load<u64>(p, 24));
    v1 = round(v1, load<u64>(p, 32));
    v2 = round(v2, load<u64>(p, 40));
    v3 = round(v3, load<u64>(p, 48));
    v4 = round(v4, load<u64>(p, 56));
    v1 = round(v1, load<u64>(p, 64));
    v2 = round(v2, load<u64>(p, 72));
    v3 = round(v3, load<u64>(p, 80));
    v4 = round(v4, load<u64>(p, 88));
    v1 = round(v1, load<u64>(p, 96));
    v2 = round(v2, load<u64>(p, 104));
    v3 = round(v3, load<u64>(p, 112));
    v4 = round(v4, load<u64>(p, 120));
  }
  return finishPage(v1, v2, v3, v4);
}
