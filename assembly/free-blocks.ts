// Blocks given back, kept for the next allocation: a doubly linked list through the free blocks
// themselves (next at +0, previous at +4), so that any one of them can be taken out, and a bitmap
// of them by block number, so that a run of free blocks next to each other can be found. Item areas
// (ITEM_AREA_BLOCKS blocks in a row) are made of freed blocks when there is such a run, and go back
// as single blocks, which frames, tables and slabs can take: memory freed by merges or by an exit
// serves whichever needs it next.
import { PAGE_SHIFT } from './layout';

let head: u32 = 0;
/** Free blocks now. */
export let freeCount: u32 = 0;
/** The bitmap: bit b of it is block b (address b << 12), set while the block is free. */
let bitmap: u32 = 0;
/** Blocks freed since a search for a run found none: none can succeed while nothing was freed. */
let freedSinceFailedSearch: u32 = 0;

/** The bitmap's bytes for blocks below address `end`. */
export function freeBitmapBytes(end: u64): u32 { return <u32>(((end >> PAGE_SHIFT) + 31) >> 5) << 2; }

/** Starts empty, with the bitmap (zeroed memory, freeBitmapBytes of it) at `at`. */
export function initFreeBlocks(at: u32): void {
  bitmap = at;
  head = 0;
  freeCount = 0;
  freedSinceFailedSearch = 0;
}

@inline function wordOf(block: u32): u32 { return bitmap + ((block >> (PAGE_SHIFT + 5)) << 2); }
@inline function bitOf(block: u32): u32 { return 1 << ((block >> PAGE_SHIFT) & 31); }

export function pushFreeBlock(block: u32): void {
  store<u32>(block, head);
  store<u32>(block, 0, 4);
  if (head != 0) store<u32>(head, block, 4);
  head = block;
  store<u32>(wordOf(block), load<u32>(wordOf(block)) | bitOf(block));
  freeCount++;
  freedSinceFailedSearch++;
}

/** A free block taken out, or 0 if there is none. */
export function popFreeBlock(): u32 {
  const block = head;
  if (block != 0) unlink(block);
  return block;
}

function unlink(block: u32): void {
  const next = load<u32>(block);
  const prev = load<u32>(block, 4);
  if (prev != 0) store<u32>(prev, next);
  else head = next;
  if (next != 0) store<u32>(next, prev, 4);
  store<u32>(wordOf(block), load<u32>(wordOf(block)) & ~bitOf(block));
  freeCount--;
}

/**
 * `n` free blocks next to each other among the blocks in [first, end), taken out: the address of
 * the first, or 0 if there is no such run. Reads the bitmap word by word (32 blocks a step).
 */
export function takeFreeRun(n: u32, first: u32, end: u32): u32 {
  if (freeCount < n || freedSinceFailedSearch == 0) return 0;
  let run: u32 = 0;
  for (let block = first; block < end;) {
    const word = load<u32>(wordOf(block));
    const bit = (block >> PAGE_SHIFT) & 31;
    if (bit == 0 && word == 0) { run = 0; block += 32 << PAGE_SHIFT; continue; }
    run = (word & bitOf(block)) != 0 ? run + 1 : 0;
    block += 1 << PAGE_SHIFT;
    if (run == n) {
      const start = block - (n << PAGE_SHIFT);
      for (let b: u32 = 0; b < n; b++) unlink(start + (b << PAGE_SHIFT));
      return start;
    }
  }
  freedSinceFailedSearch = 0;
  return 0;
}
