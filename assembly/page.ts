// Whole-page primitives: compare (memcmp order), is-zero, copy. SIMD over 64 bytes at a time.
import { PAGE_SIZE } from './layout';

/**
 * Compares two pages as memcmp does: unsigned bytes, the first difference decides. Returns < 0,
 * 0 or > 0. Every equality of page contents in the core comes from here: checksums never decide it.
 */
export function memcmpPages(a: u32, b: u32): i32 {
  for (let off: u32 = 0; off < PAGE_SIZE; off += 64) {
    const x = v128.or(
      v128.or(v128.xor(v128.load(a + off), v128.load(b + off)), v128.xor(v128.load(a + off, 16), v128.load(b + off, 16))),
      v128.or(v128.xor(v128.load(a + off, 32), v128.load(b + off, 32)), v128.xor(v128.load(a + off, 48), v128.load(b + off, 48))),
    );
    if (v128.any_true(x)) return firstDifference(a + off, b + off);
  }
  return 0;
}

/** The sign of the first differing byte within 64 bytes that are known to differ. */
function firstDifference(a: u32, b: u32): i32 {
  for (let off: u32 = 0; off < 64; off += 8) {
    const wa = load<u64>(a + off);
    const wb = load<u64>(b + off);
    if (wa != wb) {
      // Little-endian: the lowest differing byte is the first in memory.
      const shift = <u64>(ctz(wa ^ wb) & ~7);
      return <i32>((wa >> shift) & 0xff) - <i32>((wb >> shift) & 0xff);
    }
  }
  return 0;
}

export function isZeroPage(a: u32): bool {
  let acc = v128.splat<i64>(0);
  for (let off: u32 = 0; off < PAGE_SIZE; off += 64) {
    acc = v128.or(acc, v128.or(
      v128.or(v128.load(a + off), v128.load(a + off, 16)),
      v128.or(v128.load(a + off, 32), v128.load(a + off, 48)),
    ));
  }
  return !v128.any_true(acc);
}

/** The first 4 bytes as a big-endian integer: integer order is memcmp order for them. */
@inline export function pageKey32(a: u32): u32 { return bswap<u32>(load<u32>(a)); }

@inline export function copyPage(to: u32, from: u32): void {
  memory.copy(to, from, PAGE_SIZE);
}
