/**
 * The one rule for sizing an engine's linear memory (Ksm's maxMemory), used by `estimate`,
 * `replay` and the benches: every page frame the run can hold, its share of the records beside
 * it (frame and page-table entries, the 28-byte rmap item, stable nodes: under 3 % of a page),
 * and a fixed 48 MiB for the core's own regions and the records' slack, in whole 64 KiB
 * WebAssembly pages. wasm32 caps one engine at 4 GiB.
 */
import { PAGE_SIZE } from '../backend.js';

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
