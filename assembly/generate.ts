// The bytes of the scaled scenarios' generated pages (src/estimate/scaled.ts says what the pages
// are): a page is named by a plan of four 32-bit words (kind, a, b, c); kind 0 fills the page with
// byte `a`, any other kind gives the page's 1024 words from xorshift128 started at
// (kind, a, b, c ^ IV) after 8 discarded steps. It lives in the core so a hashing instance makes the
// bytes and fingerprints them where they are, with no copy between.
//
// Four pages are made at once, one in each lane of a vector: the generator's steps depend on each
// other within a page, not across pages, so four chains run side by side.
import { PAGE_SIZE } from './layout';

/** Words of a plan. */
export const PLAN_WORDS: u32 = 4;
const WORDS: u32 = PAGE_SIZE / 4;
const IV: u32 = 0x6a09e667;
const DISCARDED: i32 = 8;

/** The four pages planned at `plans`, as generated kinds whatever they are (fills are overwritten after). */
function generateFour(plans: u32, out: u32): void {
  // Lane j holds page j's state: transpose the four plans. (Locals, not globals: V8 keeps a
  // global in memory, a local in a register.)
  const p0 = v128.load(plans), p1 = v128.load(plans, 16), p2 = v128.load(plans, 32), p3 = v128.load(plans, 48);
  const a01 = i32x4.shuffle(p0, p1, 0, 4, 1, 5), a23 = i32x4.shuffle(p2, p3, 0, 4, 1, 5);
  const b01 = i32x4.shuffle(p0, p1, 2, 6, 3, 7), b23 = i32x4.shuffle(p2, p3, 2, 6, 3, 7);
  let x = i64x2.shuffle(a01, a23, 0, 2);
  let y = i64x2.shuffle(a01, a23, 1, 3);
  let z = i64x2.shuffle(b01, b23, 0, 2);
  let w = v128.xor(i64x2.shuffle(b01, b23, 1, 3), i32x4.splat(IV));
  for (let i = 0; i < DISCARDED; i++) {
    const t = v128.xor(x, i32x4.shl(x, 11));
    x = y; y = z; z = w;
    w = v128.xor(v128.xor(w, i32x4.shr_u(w, 19)), v128.xor(t, i32x4.shr_u(t, 8)));
  }
  // Four steps give each page four consecutive words: transpose the 4×4 words, store a vector a
  // page. Four steps of xorshift128 take the four state words as t inputs, so they are unrolled.
  for (let at: u32 = 0; at < PAGE_SIZE; at += 16) {
    const t0 = v128.xor(x, i32x4.shl(x, 11));
    const s0 = v128.xor(v128.xor(w, i32x4.shr_u(w, 19)), v128.xor(t0, i32x4.shr_u(t0, 8)));
    const t1 = v128.xor(y, i32x4.shl(y, 11));
    const s1 = v128.xor(v128.xor(s0, i32x4.shr_u(s0, 19)), v128.xor(t1, i32x4.shr_u(t1, 8)));
    const t2 = v128.xor(z, i32x4.shl(z, 11));
    const s2 = v128.xor(v128.xor(s1, i32x4.shr_u(s1, 19)), v128.xor(t2, i32x4.shr_u(t2, 8)));
    const t3 = v128.xor(w, i32x4.shl(w, 11));
    const s3 = v128.xor(v128.xor(s2, i32x4.shr_u(s2, 19)), v128.xor(t3, i32x4.shr_u(t3, 8)));
    x = s0; y = s1; z = s2; w = s3;
    const lo01 = i32x4.shuffle(s0, s1, 0, 4, 1, 5); // pages 0 and 1, words 0 and 1
    const lo23 = i32x4.shuffle(s2, s3, 0, 4, 1, 5); // pages 0 and 1, words 2 and 3
    const hi01 = i32x4.shuffle(s0, s1, 2, 6, 3, 7); // pages 2 and 3, words 0 and 1
    const hi23 = i32x4.shuffle(s2, s3, 2, 6, 3, 7); // pages 2 and 3, words 2 and 3
    v128.store(out + at, i64x2.shuffle(lo01, lo23, 0, 2));
    v128.store(out + PAGE_SIZE + at, i64x2.shuffle(lo01, lo23, 1, 3));
    v128.store(out + 2 * PAGE_SIZE + at, i64x2.shuffle(hi01, hi23, 0, 2));
    v128.store(out + 3 * PAGE_SIZE + at, i64x2.shuffle(hi01, hi23, 1, 3));
  }
}

/** One page, on its own (the last pages of a run that is not a multiple of four). */
function generateOne(plan: u32, out: u32): void {
  let sx = load<u32>(plan), sy = load<u32>(plan, 4), sz = load<u32>(plan, 8), sw = load<u32>(plan, 12) ^ IV;
  for (let i: i32 = -DISCARDED; i < <i32>WORDS; i++) {
    const t = sx ^ (sx << 11);
    sx = sy; sy = sz; sz = sw;
    sw = sw ^ (sw >>> 19) ^ (t ^ (t >>> 8));
    if (i >= 0) store<u32>(out + (<u32>i << 2), sw);
  }
}

/** The `count` pages planned at `plans` (PLAN_WORDS words each), written one after the other to `out`. */
export function generatePages(plans: u32, count: u32, out: u32): void {
  let i: u32 = 0;
  for (; i + 4 <= count; i += 4) generateFour(plans + i * PLAN_WORDS * 4, out + i * PAGE_SIZE);
  for (; i < count; i++) generateOne(plans + i * PLAN_WORDS * 4, out + i * PAGE_SIZE);
  // Fills: kind 0, byte a.
  for (let j: u32 = 0; j < count; j++) {
    const plan = plans + j * PLAN_WORDS * 4;
    if (load<u32>(plan) == 0) memory.fill(out + j * PAGE_SIZE, <u8>load<u32>(plan, 4), PAGE_SIZE);
  }
}
