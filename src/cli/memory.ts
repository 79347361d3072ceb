/**
 * The one rule for sizing an engine's linear memory (Ksm's maxMemory), used by `estimate`,
 * `replay` and the benches: every page frame the run can hold, its share of the records beside
 * it (frame-table entry, pte, the 24-byte rmap item, stable nodes: under 3 % of a page),
 * and a fixed 48 MiB for the core's own regions and the records' slack, in whole 64 KiB
 * WebAssembly pages. wasm32 caps one engine at 4 GiB.
 */
import { PAGE_SIZE, type EngineName } from '../backend.js';
import { FP_CAP_BYTES_PER_FRAME, FP_MAX_PAGES } from '../generated/core-abi.js';

/** The most linear memory one engine can have: wasm32's 4 GiB. */
export const ENGINE_MEMORY_LIMIT = 2 ** 32;

const RECORDS_SHARE = 0.03;
const FIXED_BYTES = 48 << 20;
const WASM_PAGE = 65536;

/** Bytes an engine needs to hold `frames` page frames (may exceed ENGINE_MEMORY_LIMIT: check with engineFits). */
export function engineMemoryNeeded(frames: number): number {
  return Math.ceil((frames * PAGE_SIZE * (1 + RECORDS_SHARE) + FIXED_BYTES) / WASM_PAGE) * WASM_PAGE;
}

/** Whether one engine can hold `frames` page frames. */
export const engineFits = (frames: number): boolean => engineMemoryNeeded(frames) <= ENGINE_MEMORY_LIMIT;

/** The memory cap for an engine that holds at most `frames` page frames: what they need, at most 4 GiB. */
export const engineMemoryFor = (frames: number): number => Math.min(ENGINE_MEMORY_LIMIT, engineMemoryNeeded(frames));

// ---- the fingerprint engine (docs/fingerprints.md) ----------------------------------------------
//
// It holds no page bytes: per page a 20-byte fingerprint frame, a 24-byte rmap item, a 4-byte pte
// (48 bytes measured with every page unique; docs/engine-memory.md), and stable nodes for merged
// contents. Its frame region is address space reserved from the cap (FP_CAP_BYTES_PER_FRAME of cap
// per frame), so the rule gives each page 96 bytes of cap, plus the same fixed 48 MiB.

/** Bytes of cap per page for the fingerprint engine (its data, and its frame region's share of the cap). */
const FINGERPRINT_CAP_PER_PAGE = 96;

/** Pages one fingerprint engine holds at most (its frame numbers: the core's FP_MAX_PAGES). */
export const FINGERPRINT_MAX_PAGES = FP_MAX_PAGES;

/** Bytes a fingerprint engine needs for `pages` pages (may exceed ENGINE_MEMORY_LIMIT). */
export function fingerprintMemoryNeeded(pages: number): number {
  return Math.ceil((pages * Math.max(FINGERPRINT_CAP_PER_PAGE, FP_CAP_BYTES_PER_FRAME) + FIXED_BYTES) / WASM_PAGE) * WASM_PAGE;
}

/** Whether one fingerprint engine can hold `pages` pages. */
export const fingerprintFits = (pages: number): boolean =>
  pages <= FINGERPRINT_MAX_PAGES && fingerprintMemoryNeeded(pages) <= ENGINE_MEMORY_LIMIT;

/** The memory cap for a fingerprint engine of `pages` pages: what they need, at most 4 GiB. */
export const fingerprintMemoryFor = (pages: number): number => Math.min(ENGINE_MEMORY_LIMIT, fingerprintMemoryNeeded(pages));

/** The largest n in 1..limit for which `fits(n)` holds (`fits` holds up to some n, then never). */
function largestFitting(fits: (n: number) => boolean, limit: number): number {
  let lo = 1, hi = limit;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Pages one engine holds at most: the fingerprint engine's frame numbers, or 4 GiB of the page engine's frames and records. */
export const engineCapacity = (engine: EngineName): number =>
  engine === 'fingerprints' ? largestFitting(fingerprintFits, FINGERPRINT_MAX_PAGES) : largestFitting(engineFits, ENGINE_MEMORY_LIMIT / PAGE_SIZE);
