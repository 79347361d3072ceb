// The bytes of the scaled scenarios' generated pages (src/estimate/scaled.ts says what the pages
// are): a page is named by a plan of four 32-bit words (kind, a, b, c); kind 0 fills the page with
// byte `a`, any other kind gives the page's 1024 words from xorshift128 started at
// (kind, a, b, c ^ IV) after 8 discarded steps. It lives in the core so a hashing instance makes the
// bytes and fingerprints them where they are, with no copy between.
//
// Eight pages are made at once, four in the lanes of one vector and four in another's: the
// generator's steps depend on each other within a page, not across pages, so the chains run side
// by side.
import { PAGE_SIZE } from './layout';

/** Words of a plan. */
export const PLAN_WORDS: u32 = 4;
const WORDS: u32 = PAGE_SIZE / 4;
const IV: u32 = 0x6a09e667;
const DISCARDED: i32 = 8;

// The generator's state for four pages, one in each lane of x, y, z, w (see generateEight).
@inline function laneX(p0: v128, p1: v128, p2: v128, p3: v128): v128 {
  return i64x2.shuffle(i32x4.shuffle(p0, p1, 0, 4, 1, 5), i32x4.shuffle(p2, p3, 0, 4, 1, 5), 0, 2);
}
@inline function laneY(p0: v128, p1: v128, p2: v128, p3: v128): v128 {
  return i64x2.shuffle(i32x4.shuffle(p0, p1, 0, 4, 1, 5), i32x4.shuffle(p2, p3, 0, 4, 1, 5), 1, 3);
}
@inline function laneZ(p0: v128, p1: v128, p2: v128, p3: v128): v128 {
  return i64x2.shuffle(i32x4.shuffle(p0, p1, 2, 6, 3, 7), i32x4.shuffle(p2, p3, 2, 6, 3, 7), 0, 2);
}
@inline function laneW(p0: v128, p1: v128, p2: v128, p3: v128): v128 {
  return v128.xor(i64x2.shuffle(i32x4.shuffle(p0, p1, 2, 6, 3, 7), i32x4.shuffle(p2, p3, 2, 6, 3, 7), 1, 3), i32x4.splat(IV));
}

/** One xorshift128 step of four lanes: the new w from the old x (t) and w. */
@inline function next(x: v128, w: v128): v128 {
  const t = v128.xor(x, i32x4.shl(x, 11));
  return v128.xor(v128.xor(w, i32x4.shr_u(w, 19)), v128.xor(t, i32x4.shr_u(t, 8)));
}

/** Four steps (s0..s3) give each of four pages four consecutive words: transposed, a vector a page. */
@inline function storeFour(s0: v128, s1: v128, s2: v128, s3: v128, out: u32): void {
  const lo01 = i32x4.shuffle(s0, s1, 0, 4, 1, 5); // pages 0 and 1, words 0 and 1
  const lo23 = i32x4.shuffle(s2, s3, 0, 4, 1, 5); // pages 0 and 1, words 2 and 3
  const hi01 = i32x4.shuffle(s0, s1, 2, 6, 3, 7); // pages 2 and 3, words 0 and 1
  const hi23 = i32x4.shuffle(s2, s3, 2, 6, 3, 7); // pages 2 and 3, words 2 and 3
  v128.store(out, i64x2.shuffle(lo01, lo23, 0, 2));
  v128.store(out + PAGE_SIZE, i64x2.shuffle(lo01, lo23, 1, 3));
  v128.store(out + 2 * PAGE_SIZE, i64x2.shuffle(hi01, hi23, 0, 2));
  v128.store(out + 3 * PAGE_SIZE, i64x2.shuffle(hi01, hi23, 1, 3));
}

/**
 * The eight pages planned at `plans`, as generated kinds whatever they are (fills are overwritten
 * after): two groups of four, their chains interleaved. A group's steps each wait for the one
 * before (xorshift's w), so one group alone left the vector units idle between steps; the second
 * group's steps fill them (bench primitives, in cache: 453 ns a page with one group, 228 with two).
 */
function generateEight(plans: u32, out: u32): void {
  // Lane j holds page j's state: transpose the plans. (Locals, not globals: V8 keeps a global in
  // memory, a local in a register.)
  let p0 = v128.load(plans), p1 = v128.load(plans, 16), p2 = v128.load(plans, 32), p3 = v128.load(plans, 48);
  let ax = laneX(p0, p1, p2, p3), ay = laneY(p0, p1, p2, p3), az = laneZ(p0, p1, p2, p3), aw = laneW(p0, p1, p2, p3);
  p0 = v128.load(plans, 64); p1 = v128.load(plans, 80); p2 = v128.load(plans, 96); p3 = v128.load(plans, 112);
  let bx = laneX(p0, p1, p2, p3), by = laneY(p0, p1, p2, p3), bz = laneZ(p0, p1, p2, p3), bw = laneW(p0, p1, p2, p3);
  for (let i = 0; i < DISCARDED; i++) {
    const a = next(ax, aw), b = next(bx, bw);
    ax = ay; ay = az; az = aw; aw = a;
    bx = by; by = bz; bz = bw; bw = b;
  }
  // Four steps of xorshift128 take the four state words as t inputs, so they are unrolled.
  for (let at: u32 = 0; at < PAGE_SIZE; at += 16) {
    const a0 = next(ax, aw), b0 = next(bx, bw);
    const a1 = next(ay, a0), b1 = next(by, b0);
    const a2 = next(az, a1), b2 = next(bz, b1);
    const a3 = next(aw, a2), b3 = next(bw, b2);
    ax = a0; ay = a1; az = a2; aw = a3;
    bx = b0; by = b1; bz = b2; bw = b3;
    storeFour(a0, a1, a2, a3, out + at);
    storeFour(b0, b1, b2, b3, out + 4 * PAGE_SIZE + at);
  }
}

/** One page, on its own (the last pages of a run that is not a multiple of eight). */
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
  for (; i + 8 <= count; i += 8) generateEight(plans + i * PLAN_WORDS * 4, out + i * PAGE_SIZE);
  for (; i < count; i++) generateOne(plans + i * PLAN_WORDS * 4, out + i * PAGE_SIZE);
  // Fills: kind 0, byte a.
  for (let j: u32 = 0; j < count; j++) {
    const plan = plans + j * PLAN_WORDS * 4;
    if (load<u32>(plan) == 0) memory.fill(out + j * PAGE_SIZE, <u8>load<u32>(plan, 4), PAGE_SIZE);
  }
}
