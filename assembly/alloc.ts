// Memory for the core: 4 KiB blocks (frames, page tables, slabs) from the top of linear memory,
// item areas of ITEM_AREA_BLOCKS contiguous blocks (the rmap items of a leaf pair), records
// (RECORD_SIZE) from slabs, and the frame table (mapcount and stable node per frame). In the
// fingerprint engine (FINGERPRINTS) a frame is a 20-byte fingerprint frame (layout.ts) from a
// region of its own, after the frame table, instead of a block.
//
// note: nothing here fails half-way. An operation that allocates first reserves what it may need
// (reserveBlocks, reserveRecords); once that succeeded, its allocations cannot fail.
import {
  BASE_LOCATION, C_FRAMES_IN_USE, C_KSM_FRAMES, C_RECORDS_IN_USE, FP_CAP_BYTES_PER_FRAME, FP_FIRST_PFN, FP_FRAME_META,
  FP_FRAME_SIZE, FP_MAX_FRAMES, FP_META_KSM, FRAME_ENTRY_SIZE, FRAME_TABLE_LOCATION, ITEM_AREA_BLOCKS, LEAF_BYTES, N_KIND, N_MAPCOUNT, NODE_STALE,
  PAGE_SHIFT, PAGE_SIZE, RECORD_SIZE, RECORDS_PER_BLOCK, WASM_PAGE,
} from './layout';
import { addCounter } from './counters';
import { freeBitmapBytes, freeCount, initFreeBlocks, popFreeBlock, pushFreeBlock, takeFreeRun } from './free-blocks';
import { stableTreesChanged } from './stable-generation';

/** First address past the memory cap. */
let capEnd: u64 = 0;
/** Blocks start here (after the frame table, which is sized for the cap). */
let blocksStart: u32 = 0;
/** Next never-used block. */
let bump: u32 = 0;
let freeRecords: u32 = 0;
let freeRecordCount: u32 = 0;

// What the engine's own bookkeeping occupies, counted where it is allocated (memoryInfo reports it):
// blocks carved into record slabs (never returned: freed records stay on the record list), blocks
// of page tables and of item areas in use, and the most of all three at once so far.
export let slabBlocks: u32 = 0;
export let tableBlocks: u32 = 0;
export let itemAreaBlocks: u32 = 0;
export let peakMetadataBlocks: u32 = 0;
@inline function notePeak(): void {
  const now = slabBlocks + tableBlocks + itemAreaBlocks;
  if (now > peakMetadataBlocks) peakMetadataBlocks = now;
}
/** Bytes of the frame table (8 per frame of the memory cap, reserved at init). */
export function frameTableBytes(): u32 { return <u32>(capEnd >> PAGE_SHIFT) * FRAME_ENTRY_SIZE; }
/** Bytes before the first block: the static regions, the frame table, the fingerprint frames' region, the free-block bitmap. */
export function fixedBytes(): u32 { return blocksStart; }
/**
 * Bytes of the frame table that were ever written, in whole 4 KiB pages: the entries of every block
 * handed out so far (below bump), and the table's first page (the zero frame's entry). The rest of
 * the table, reserved for the cap, was never touched, so the host never gave it memory.
 */
export function frameTableTouchedBytes(): u32 {
  const first = FRAME_TABLE_LOCATION + (blocksStart >> PAGE_SHIFT) * FRAME_ENTRY_SIZE;
  const end = FRAME_TABLE_LOCATION + (bump >> PAGE_SHIFT) * FRAME_ENTRY_SIZE;
  const pageDown = (a: u32): u32 => a & ~(PAGE_SIZE - 1);
  const blocksPart = end > first ? pageDown(end + PAGE_SIZE - 1) - pageDown(first) : 0;
  return PAGE_SIZE + blocksPart;
}

/** Blocks handed out and not freed: frames, slabs, page tables and item areas. */
export function blocksInUse(): u32 { return ((bump - blocksStart) >> PAGE_SHIFT) - freeCount; }
// The fingerprint engine's frames: pfn n at fpFramesStart + n * FP_FRAME_SIZE, n < fpFrameLimit.
let fpFramesStart: u32 = 0;
let fpFrameLimit: u32 = 0;
/** Next never-used pfn, and the free list (linked through the frames' first word). */
let fpFrameBump: u32 = 0;
let fpFreeFrames: u32 = 0;
let fpFreeFrameCount: u32 = 0;

/** Sets up the regions for a cap of `maxWasmPages` × 64 KiB. False if even that does not fit. */
export function initMemory(maxWasmPages: u32): bool {
  if (DEBUG) assert(__heap_base <= BASE_LOCATION); // static data must fit below our regions
  // Blocks end one block short of 4 GiB, so that no block's end (a u32) wraps to 0.
  capEnd = min<u64>(<u64>maxWasmPages * WASM_PAGE, 0x1_0000_0000 - PAGE_SIZE);
  const frames = <u32>(capEnd >> PAGE_SHIFT);
  let tableEnd = FRAME_TABLE_LOCATION + frames * FRAME_ENTRY_SIZE;
  if (FINGERPRINTS) {
    // The region is address space: memory grows over it at once, but only frames written take RAM.
    fpFramesStart = tableEnd;
    fpFrameLimit = <u32>min<u64>(capEnd / FP_CAP_BYTES_PER_FRAME, <u64>FP_MAX_FRAMES);
    fpFrameBump = FP_FIRST_PFN;
    tableEnd = fpFramesStart + fpFrameLimit * FP_FRAME_SIZE;
  }
  initFreeBlocks(tableEnd);
  tableEnd += freeBitmapBytes(capEnd);
  blocksStart = (tableEnd + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
  bump = blocksStart;
  return growTo(blocksStart);
}

/** Grows linear memory so that it covers `end`, within the cap. */
function growTo(end: u32): bool {
  if (<u64>end > capEnd) return false;
  const have = <u32>memory.size();
  const need = (<u32>((<u64>end + WASM_PAGE - 1) >> 16));
  if (need <= have) return true;
  // Grow in steps of at least 1/8 of the memory (and 1 MiB), so growth is rare, but never past the cap.
  let grow = max(need - have, max(have >> 3, 16));
  const capPages = <u32>(capEnd >> 16);
  if (have + grow > capPages) grow = capPages - have;
  if (grow < need - have) return false;
  return memory.grow(grow) >= 0;
}

/** Makes sure `n` blocks can be allocated without failing. */
export function reserveBlocks(n: u32): bool {
  if (n <= freeCount) return true;
  const fresh = <u64>(n - freeCount) << PAGE_SHIFT;
  if (<u64>bump + fresh > capEnd) return false;
  return growTo(<u32>(<u64>bump + fresh));
}

export function allocBlock(): u32 {
  const free = popFreeBlock();
  if (free != 0) return free;
  const block = bump;
  if (DEBUG) assert(<u64>block + PAGE_SIZE <= <u64>memory.size() << 16); // reserveBlocks was called
  bump += PAGE_SIZE;
  return block;
}

/**
 * `bytes` (rounded up to blocks) of contiguous fresh memory that is never freed, or 0: for a core
 * instance that only hashes (its input and output buffers), not for one that runs the engine.
 */
export function allocArena(bytes: u32): u32 { return takeFresh((bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)); }

/** `size` bytes (whole blocks) of never-used memory in a row, or 0 past the cap. */
function takeFresh(size: u32): u32 {
  if (<u64>bump + size > capEnd || !growTo(bump + size)) return 0;
  const at = bump;
  bump += size;
  return at;
}

/** A zeroed block for a page table (a directory or a leaf); blocks reserved. */
export function allocTableBlock(): u32 {
  const block = allocBlock();
  memory.fill(block, 0, PAGE_SIZE);
  tableBlocks++;
  notePeak();
  return block;
}

export function freeTableBlock(block: u32): void {
  tableBlocks--;
  freeBlock(block);
}

export function freeBlock(block: u32): void { pushFreeBlock(block); }

/** Makes sure `n` records can be allocated without failing. */
export function reserveRecords(n: u32): bool {
  while (freeRecordCount < n) {
    if (!reserveBlocks(1)) return false;
    const slab = allocBlock();
    slabBlocks++;
    notePeak();
    for (let i: u32 = 0; i < RECORDS_PER_BLOCK; i++) freeRecord(slab + i * RECORD_SIZE, false);
  }
  return true;
}

/** A zeroed record; reserveRecords must have been called. */
export function allocRecord(): u32 {
  if (DEBUG) assert(freeRecords != 0); // reserveRecords was called
  const record = freeRecords;
  freeRecords = load<u32>(record);
  freeRecordCount--;
  memory.fill(record, 0, RECORD_SIZE);
  addCounter(C_RECORDS_IN_USE, 1);
  return record;
}

export function freeRecord(record: u32, inUse: bool = true): void {
  store<u32>(record, freeRecords);
  freeRecords = record;
  freeRecordCount++;
  if (inUse) addCounter(C_RECORDS_IN_USE, -1);
}

// ---- frames -------------------------------------------------------------------------------------

/** Where frame `pfn`'s contents are: a 4 KiB page, or (FINGERPRINTS) the fingerprint frame's fingerprint. */
@inline export function frameAddress(pfn: u32): u32 {
  return FINGERPRINTS ? fpFramesStart + pfn * FP_FRAME_SIZE : pfn << PAGE_SHIFT;
}
/** The frame-table entry of a block (page tables keep their owner and flags there). */
@inline function frameEntry(pfn: u32): u32 { return FRAME_TABLE_LOCATION + pfn * FRAME_ENTRY_SIZE; }
/** The mapcount and stable node of frame `pfn`: its frame-table entry, or the fingerprint frame's meta word. */
@inline function frameMeta(pfn: u32): u32 {
  return FINGERPRINTS ? frameAddress(pfn) + FP_FRAME_META : frameEntry(pfn);
}
// The fingerprint engine keeps both in one word (layout.ts): mapcount << 1, or node | FP_META_KSM
// with the mapcount in the node.
@inline export function mapcount(pfn: u32): u32 {
  const word = load<u32>(frameMeta(pfn));
  if (!FINGERPRINTS) return word;
  return word & FP_META_KSM ? load<u32>(word & ~FP_META_KSM, N_MAPCOUNT) : word >> 1;
}
@inline export function setMapcount(pfn: u32, count: u32): void {
  if (!FINGERPRINTS) { store<u32>(frameMeta(pfn), count); return; }
  const word = load<u32>(frameMeta(pfn));
  if (word & FP_META_KSM) store<u32>(word & ~FP_META_KSM, count, N_MAPCOUNT);
  else store<u32>(frameMeta(pfn), count << 1);
}
/** The stable node of a KSM page, or 0. */
@inline export function frameNode(pfn: u32): u32 {
  if (!FINGERPRINTS) return load<u32>(frameMeta(pfn), 4);
  const word = load<u32>(frameMeta(pfn));
  return word & FP_META_KSM ? word & ~FP_META_KSM : 0;
}

/** Frame `pfn` becomes the KSM page of `node` (0: no longer a KSM page); its mapcount moves along. */
export function setFrameNode(pfn: u32, node: u32): void {
  const was = frameNode(pfn);
  if (FINGERPRINTS) {
    const count = mapcount(pfn);
    if (node != 0) store<u32>(node, count, N_MAPCOUNT);
    store<u32>(frameMeta(pfn), node != 0 ? node | FP_META_KSM : count << 1);
  } else {
    store<u32>(frameMeta(pfn), node, 4);
  }
  if ((was == 0) != (node == 0)) addCounter(C_KSM_FRAMES, node != 0 ? 1 : -1);
}

/** The space a page-table block belongs to (kept in its frame-table entry, which a table does not otherwise use). */
@inline export function blockOwner(address: u32): u32 { return load<u32>(frameEntry(address >> PAGE_SHIFT)); }
@inline export function setBlockOwner(block: u32, space: u32): void { store<u32>(frameEntry(block >> PAGE_SHIFT), space); }

// A leaf pair's block keeps, in the word its frame-table entry keeps for a frame's stable node, the
// address of its item area (a block address: its low 12 bits are free) and each leaf's flag bit.
const PAIR_FLAG_BITS: u32 = 3;
@inline function pairWord(leaf: u32): u32 { return frameEntry(leaf >> PAGE_SHIFT) + 4; }
/** Which leaf of its pair `leaf` is: 0 or 1. */
@inline function leafHalf(leaf: u32): u32 { return (leaf / LEAF_BYTES) & 1; }

/** A page-table leaf's flags (LEAF_WHOLE_HUGE or 0). */
@inline export function leafFlags(leaf: u32): u32 { return (load<u32>(pairWord(leaf)) >> leafHalf(leaf)) & 1; }
export function setLeafFlags(leaf: u32, flags: u32): void {
  const bit: u32 = 1 << leafHalf(leaf);
  const word = load<u32>(pairWord(leaf));
  store<u32>(pairWord(leaf), flags ? word | bit : word & ~bit);
}

/** A fresh leaf pair block of space `space`: no item area, no flags. */
export function initLeafPair(block: u32, space: u32): void {
  setBlockOwner(block, space);
  store<u32>(pairWord(block), 0);
}

/** The item area of the leaf pair holding `leaf` (or of the pair block itself), or 0 while its pages have no item. */
@inline export function itemAreaOf(leaf: u32): u32 { return load<u32>(pairWord(leaf)) & ~PAIR_FLAG_BITS; }

/** Gives a leaf pair its item area, zeroed, if it has none; false if memory is short (nothing changed). */
export function ensureItemArea(leaf: u32): bool {
  if (itemAreaOf(leaf) != 0) return true;
  // Freed blocks in a row first (memory already touched), else fresh ones.
  const size = ITEM_AREA_BLOCKS << PAGE_SHIFT;
  let area = takeFreeRun(ITEM_AREA_BLOCKS, blocksStart, bump);
  if (area == 0) area = takeFresh(size);
  if (area == 0) return false;
  memory.fill(area, 0, size);
  const pair = leaf & ~(PAGE_SIZE - 1);
  for (let b: u32 = 0; b < ITEM_AREA_BLOCKS; b++) store<u32>(frameEntry((area >> PAGE_SHIFT) + b), pair);
  store<u32>(pairWord(leaf), load<u32>(pairWord(leaf)) | area);
  itemAreaBlocks += ITEM_AREA_BLOCKS;
  notePeak();
  return true;
}

/** A leaf pair's item area goes back, block by block (its pages have no items left); the pair keeps its flags. */
export function freeItemArea(leaf: u32): void {
  const area = itemAreaOf(leaf);
  if (area == 0) return;
  store<u32>(pairWord(leaf), load<u32>(pairWord(leaf)) & PAIR_FLAG_BITS);
  for (let b: u32 = 0; b < ITEM_AREA_BLOCKS; b++) freeBlock(area + (b << PAGE_SHIFT));
  itemAreaBlocks -= ITEM_AREA_BLOCKS;
}

/** The leaf pair block whose item area holds address `item`. */
@inline export function pairOfItem(item: u32): u32 { return load<u32>(frameEntry(item >> PAGE_SHIFT)); }

/** Makes sure `n` frames can be allocated without failing. */
export function reserveFrames(n: u32): bool {
  if (!FINGERPRINTS) return reserveBlocks(n);
  return n <= fpFreeFrameCount || <u64>fpFrameBump + (n - fpFreeFrameCount) <= <u64>fpFrameLimit;
}

/** A new frame mapped once; frames must have been reserved. Its contents are not cleared. */
export function allocFrame(): u32 {
  let pfn: u32;
  if (FINGERPRINTS) {
    if (fpFreeFrames != 0) {
      pfn = fpFreeFrames;
      fpFreeFrames = load<u32>(frameAddress(pfn));
      fpFreeFrameCount--;
    } else {
      if (DEBUG) assert(fpFrameBump < fpFrameLimit); // reserveFrames was called
      pfn = fpFrameBump++;
    }
  } else {
    pfn = allocBlock() >> PAGE_SHIFT;
  }
  if (FINGERPRINTS) store<u32>(frameMeta(pfn), 1 << 1); // mapcount 1, no stable node
  else {
    setMapcount(pfn, 1);
    store<u32>(frameMeta(pfn), 0, 4);
  }
  addCounter(C_FRAMES_IN_USE, 1);
  return pfn;
}

function freeFrame(pfn: u32): void {
  if (FINGERPRINTS) {
    store<u32>(frameAddress(pfn), fpFreeFrames);
    fpFreeFrames = pfn;
    fpFreeFrameCount++;
  } else {
    freeBlock(frameAddress(pfn));
  }
}

/** One mapping of `pfn` goes away; the frame is freed with its last one (a KSM page's node goes stale). */
export function unmapFrame(pfn: u32): void {
  const count = mapcount(pfn);
  if (DEBUG) assert(count > 0); // the frame must be mapped
  if (count > 1) {
    setMapcount(pfn, count - 1);
    return;
  }
  setMapcount(pfn, 0);
  const node = frameNode(pfn);
  // The last mapping of a KSM page went: its stable node is stale from now on (found lazily by walks).
  if (node != 0) {
    store<u8>(node, load<u8>(node, N_KIND) | NODE_STALE, N_KIND);
    stableTreesChanged();
  }
  setFrameNode(pfn, 0);
  addCounter(C_FRAMES_IN_USE, -1);
  freeFrame(pfn);
}

@inline export function mapFrame(pfn: u32): void { setMapcount(pfn, mapcount(pfn) + 1); }

/**
 * Bytes the engine's data take now, from the allocator: blocks in use (page tables, record slabs,
 * and page frames in the page engine) and fingerprint frames in use. Fixed regions not counted.
 */
export function bytesInUse(): u64 {
  let bytes = <u64>blocksInUse() << PAGE_SHIFT;
  if (FINGERPRINTS) bytes += <u64>(fpFrameBump - FP_FIRST_PFN - fpFreeFrameCount) * FP_FRAME_SIZE;
  return bytes;
}

/** Bytes of linear memory in use. */
export function memoryBytes(): u64 { return <u64>memory.size() << 16; }
