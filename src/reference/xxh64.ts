/**
 * XXH64 (seed 0), the kernel's page checksum: `xxhash(page, 4096, 0)` on 64-bit builds, truncated
 * to u32. Written from the published xxHash specification. 64-bit values are held as two unsigned
 * 32-bit halves (hi, lo): Math.imul gives every low half, and the one carry that crosses halves
 * (the high half of lo*lo) is built from 16-bit limbs, so no BigInt and no allocation per page.
 *
 * The four accumulators only meet after the last stripe, so each lane is run over the whole input
 * on its own ("lane-major"): its state stays in local variables, which is what makes this fast.
 */

// The five 64-bit primes of XXH64, as (hi, lo) halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;
const TWO32 = 4294967296;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The high 32 bits of the 64-bit product of two unsigned 32-bit numbers. */
function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const hl = a1 * b0, lh = a0 * b1; // each < 2^32
  const cross = ((a0 * b0) >>> 16) + (hl & 0xffff) + (lh & 0xffff);
  return (a1 * b1 + (hl >>> 16) + (lh >>> 16) + (cross >>> 16)) >>> 0;
}

// ---- Slow-path helpers for the tail and the final mix (a few calls per hash). Each leaves its
// ---- 64-bit result in rh:rl, which the caller copies out at once.
let rh = 0;
let rl = 0;

/** (ah:al) * (bh:bl) mod 2^64. */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  rh = (mulhi(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  rl = Math.imul(al, bl) >>> 0;
}

/** (ah:al) + (bh:bl) mod 2^64. */
function add64(ah: number, al: number, bh: number, bl: number): void {
  const low = al + bl;
  rl = low >>> 0;
  rh = (ah + bh + (low >= TWO32 ? 1 : 0)) >>> 0;
}

/** Rotate (h:l) left by r bits, 0 < r < 32. */
function rotl64(h: number, l: number, r: number): void {
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** XXH64 round on (acch:accl): rotl(acc + input * P2, 31) * P1. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul64(inh, inl, P2H, P2L);
  add64(acch, accl, rh, rl);
  rotl64(rh, rl, 31);
  mul64(rh, rl, P1H, P1L);
}

// ---- The stripe loop.

/** Accumulators v1..v4 as (hi, lo) pairs, filled by `stripes`. */
const acc = new Uint32Array(8);
/** Scratch words for input that is not 4-byte aligned (or on a big-endian host). */
let scratch = new Uint32Array(1024);

/** Little-endian u32 at byte offset p. */
function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/** `n` little-endian u32 words of data from `start`: a view when possible, else a copy. */
function words(data: Uint8Array, start: number, n: number): Uint32Array {
  if (LITTLE_ENDIAN && (data.byteOffset + start) % 4 === 0) {
    return new Uint32Array(data.buffer, data.byteOffset + start, n);
  }
  if (scratch.length < n) scratch = new Uint32Array(n);
  for (let i = 0; i < n; i++) scratch[i] = u32(data, start + 4 * i);
  return scratch;
}

/** Run all whole 32-byte stripes of w[0, n) through the four lanes; results in `acc`. */
function stripes(w: Uint32Array, n: number): void {
  // Seed 0: v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1 = 2^64 - P1.
  add64(P1H, P1L, P2H, P2L);
  acc[0] = rh; acc[1] = rl;
  acc[2] = P2H; acc[3] = P2L;
  acc[4] = 0; acc[5] = 0;
  acc[6] = 0x61c8864e; acc[7] = 0x7a143579;
  for (let lane = 0; lane < 8; lane += 2) {
    let h = acc[lane], l = acc[lane + 1];
    for (let p = lane; p < n; p += 8) {
      const inl = w[p], inh = w[p + 1];
      // s = acc + input * P2
      const ml = Math.imul(inl, P2L) >>> 0;
      const mh = mulhi(inl, P2L) + Math.imul(inh, P2L) + Math.imul(inl, P2H);
      const sum = l + ml;
      const sl = sum >>> 0;
      const sh = (h + mh + (sum >= TWO32 ? 1 : 0)) >>> 0;
      // t = rotl(s, 31); acc = t * P1
      const th = ((sh << 31) | (sl >>> 1)) >>> 0;
      const tl = ((sl << 31) | (sh >>> 1)) >>> 0;
      l = Math.imul(tl, P1L) >>> 0;
      h = (mulhi(tl, P1L) + Math.imul(th, P1L) + Math.imul(tl, P1H)) >>> 0;
    }
    acc[lane] = h; acc[lane + 1] = l;
  }
}

/** Fold the four lanes into one hash (after `stripes`); result in rh:rl. */
function convergeLanes(): void {
  let hh = 0, hl = 0;
  const rotations = [1, 7, 12, 18];
  for (let i = 0; i < 4; i++) {
    rotl64(acc[2 * i], acc[2 * i + 1], rotations[i]);
    add64(hh, hl, rh, rl); hh = rh; hl = rl;
  }
  for (let i = 0; i < 4; i++) { // h = (h ^ round(0, v)) * P1 + P4
    round(0, 0, acc[2 * i], acc[2 * i + 1]);
    mul64((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, P1H, P1L);
    add64(rh, rl, P4H, P4L); hh = rh; hl = rl;
  }
}

/** XXH64 with seed 0 of data[start, end); the result is left in rh:rl. */
function hash(data: Uint8Array, start: number, end: number): void {
  const len = end - start;
  let p = start;
  let hh: number, hl: number;
  if (len >= 32) {
    const stripeBytes = len - (len % 32);
    stripes(words(data, start, stripeBytes / 4), stripeBytes / 4);
    convergeLanes(); hh = rh; hl = rl;
    p += stripeBytes;
  } else {
    hh = P5H; hl = P5L;
  }
  add64(hh, hl, Math.floor(len / TWO32) >>> 0, len >>> 0); hh = rh; hl = rl; // h += len
  for (; p + 8 <= end; p += 8) { // h = rotl(h ^ round(0, k), 27) * P1 + P4
    round(0, 0, u32(data, p + 4), u32(data, p));
    rotl64((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 27);
    mul64(rh, rl, P1H, P1L);
    add64(rh, rl, P4H, P4L); hh = rh; hl = rl;
  }
  if (p + 4 <= end) { // h = rotl(h ^ (k32 * P1), 23) * P2 + P3
    mul64(0, u32(data, p), P1H, P1L);
    rotl64((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 23);
    mul64(rh, rl, P2H, P2L);
    add64(rh, rl, P3H, P3L); hh = rh; hl = rl;
    p += 4;
  }
  for (; p < end; p++) { // h = rotl(h ^ (byte * P5), 11) * P1
    mul64(0, data[p], P5H, P5L);
    rotl64((hh ^ rh) >>> 0, (hl ^ rl) >>> 0, 11);
    mul64(rh, rl, P1H, P1L); hh = rh; hl = rl;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul64(hh, hl, P2H, P2L); hh = rh; hl = rl;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul64(hh, hl, P3H, P3L); hh = rh; hl = rl;
  rh = hh;
  rl = (hl ^ hh) >>> 0;
}

/** The page checksum: XXH64 (seed 0) of data[start, end), low 32 bits, as an unsigned number. */
export function xxh64Low32(data: Uint8Array, start = 0, end = data.length): number {
  hash(data, start, end);
  return rl;
}

/** The full XXH64 (seed 0) of data[start, end) as a bigint (for known-answer tests). */
export function xxh64(data: Uint8Array, start = 0, end = data.length): bigint {
  hash(data, start, end);
  return (BigInt(rh) << 32n) | BigInt(rl);
}
