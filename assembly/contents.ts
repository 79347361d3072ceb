// What the algorithm asks of a frame's contents, by frame number: compare two, checksum one, is it
// all zeros, a key for descents, copy and clear. The page engine answers from the 4 KiB page; the
// fingerprint engine (FINGERPRINTS, docs/fingerprints.md) from the frame's 128-bit fingerprint:
// equal fingerprints stand for equal pages, the tree order is the fingerprint's (high half, then
// low, unsigned), which makes the same decisions on a frozen input as memcmp order (every descent
// asks only "is there an equal page"), and the checksum is the fingerprint's low 32 bits (the
// kernel's XXH64 checksum, computed when the page was fingerprinted). The key, which tree records
// keep so that most descent steps need not load the frame, is the first 32 bits of that order (the
// top of the high half): key a < key b means contents a < contents b in either engine.
import { FP_FINGERPRINT_HIGH, FP_FINGERPRINT_LOW, FP_FRAME_META, PAGE_SHIFT, PAGE_SIZE, SCRATCH_LOCATION, ZERO_FRAME_LOCATION } from './layout';
import { frameAddress } from './alloc';
import { pageChecksum } from './checksum';
import { copyPage, isZeroPage, memcmpPages, pageKey32 } from './page';
import { fingerprintPage } from './fingerprint';

/** The zero frame's number: the frame of the zero page's contents. */
export const ZERO_PFN: u32 = ZERO_FRAME_LOCATION >> PAGE_SHIFT;

/**
 * Tree records keep a key (contentsKey) that decides most steps without the frame. In the fingerprint
 * engine a step otherwise costs a dependent cache miss on the frame (node, page-table entry, frame).
 */
export const CONTENTS_HAVE_KEYS: bool = true;

@inline function high(pfn: u32): u64 { return load<u64>(frameAddress(pfn), FP_FINGERPRINT_HIGH); }
@inline function low(pfn: u32): u64 { return load<u64>(frameAddress(pfn), FP_FINGERPRINT_LOW); }

/** < 0, 0 or > 0 as frame a's contents order before, equal to or after frame b's. */
export function compareContents(a: u32, b: u32): i32 {
  if (!FINGERPRINTS) return memcmpPages(frameAddress(a), frameAddress(b));
  const ha = high(a), hb = high(b);
  if (ha != hb) return ha < hb ? -1 : 1;
  const la = low(a), lb = low(b);
  return la == lb ? 0 : la < lb ? -1 : 1;
}

/**
 * The key of a frame's contents, in compareContents' order where keys differ: the page engine's first
 * 4 bytes, big-endian (memcmp order); the fingerprint's top 32 bits (its high half decides first).
 */
@inline export function contentsKey(pfn: u32): u32 {
  return FINGERPRINTS ? <u32>(high(pfn) >> 32) : pageKey32(frameAddress(pfn));
}

/** The kernel's checksum of the frame's contents. */
@inline export function contentsChecksum(pfn: u32): u32 {
  return FINGERPRINTS ? <u32>low(pfn) : pageChecksum(frameAddress(pfn));
}

/** All zeros (fingerprint engine: the zero page's fingerprint, which the zero frame holds). */
export function contentsAreZero(pfn: u32): bool {
  if (!FINGERPRINTS) return isZeroPage(frameAddress(pfn));
  return low(pfn) == low(ZERO_PFN) && high(pfn) == high(ZERO_PFN);
}

/** Frame `to` gets frame `from`'s contents (copy-on-write). */
export function copyContents(to: u32, from: u32): void {
  if (!FINGERPRINTS) { copyPage(frameAddress(to), frameAddress(from)); return; }
  store<u64>(frameAddress(to), low(from), FP_FINGERPRINT_LOW);
  store<u64>(frameAddress(to), high(from), FP_FINGERPRINT_HIGH);
}

/** Frame `pfn` holds zeros. */
export function clearContents(pfn: u32): void {
  if (!FINGERPRINTS) { memory.fill(frameAddress(pfn), 0, PAGE_SIZE); return; }
  copyContents(pfn, ZERO_PFN);
}

/** At init: the fingerprint engine's zero frame gets the zero page's fingerprint (from the zero page itself). */
export function initContents(): void {
  if (!FINGERPRINTS) return;
  // The zero page's record (24 bytes: fingerprint, checksum, flags) made in the scratch page, of
  // which the frame keeps the fingerprint; its meta word is 0 (never mapped, no stable node).
  fingerprintPage(ZERO_FRAME_LOCATION, SCRATCH_LOCATION);
  memory.copy(frameAddress(ZERO_PFN) + FP_FINGERPRINT_LOW, SCRATCH_LOCATION + FP_FINGERPRINT_LOW, 16);
  store<u32>(frameAddress(ZERO_PFN), 0, FP_FRAME_META);
}
