/**
 * The allocator's own account of the engine's memory (WasmBackend.engineMemory, which the bench's
 * memory suite divides by the tracked pages): page-table blocks follow the spaces, item areas the
 * rmap items (six blocks per leaf pair with one), record slabs the stable nodes, the peak never
 * falls, the frame table is what the cap reserved, and the part of it touched follows the blocks
 * handed out.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadWasmBackend } from '../src/core.js';
import { ITEM_SIZE, MADV_MERGEABLE, PAGE_ENGINE_RECORD_SIZE } from '../src/generated/core-abi.js';

const test = suite('engine memory');
const BLOCK = 4096;

test('page tables, item areas, slabs and their peak, as spaces come, are scanned and go', async () => {
  const core = await loadWasmBackend({ debug: true, maxMemory: 16 << 20 });
  const empty = core.engineMemory();
  assert.is(empty.tableBytes, 0);
  assert.is(empty.slabBytes, 0);
  assert.is(empty.itemAreaBytes, 0);
  assert.is(empty.frameTableBytes, ((16 << 20) / BLOCK) * 8, 'the frame table: 8 bytes per frame of the cap');
  assert.is(empty.frameTableTouchedBytes, BLOCK, 'no block handed out: only the table\'s first page (the zero frame\'s entry)');

  // 1000 pages: a directory and two leaves (512 ptes each), which share one block; no item yet.
  const id = core.createSpace(1000);
  assert.is(core.engineMemory().tableBytes, 2 * BLOCK);
  assert.is(core.engineMemory().itemAreaBytes, 0);
  const page = new Uint8Array(BLOCK);
  for (let vpn = 0; vpn < 1000; vpn++) {
    page[0] = vpn & 0xff; page[1] = vpn >> 8;
    core.write(id, vpn * BLOCK, page);
  }
  core.madvise(id, 0, 1000, MADV_MERGEABLE);
  core.setScanKnobs({ maxPageSharing: 256, useZeroPages: false, smartScan: true, stableNodeChainsPruneMillisecs: 2000, runUnmerge: false });
  core.scanBatch(2000, 0);
  const scanned = core.engineMemory();
  assert.is(scanned.recordsInUse, 1000, 'one rmap item per page (every page differs: no stable node)');
  assert.is(scanned.itemAreaBytes, 1024 * ITEM_SIZE, 'one item area: 24 bytes for each page of the leaf pair');
  assert.is(scanned.slabBytes, BLOCK, `one slab, for the two records a page's visit may need (a stable node and a chain): ${scanned.slabBytes}`);
  assert.ok(PAGE_ENGINE_RECORD_SIZE * 2 <= BLOCK);
  assert.is(scanned.peakSlabAndTableBytes, scanned.slabBytes + scanned.tableBytes + scanned.itemAreaBytes);
  // Nothing was freed yet, so every block handed out is in use: 8 bytes each, in whole pages.
  const entries = scanned.blocksInUse * 8;
  assert.ok(scanned.frameTableTouchedBytes >= BLOCK + entries, `the touched table covers every block's entry: ${scanned.frameTableTouchedBytes}`);
  assert.ok(scanned.frameTableTouchedBytes <= 3 * BLOCK + entries, `and the pages they are in, no more: ${scanned.frameTableTouchedBytes}`);

  // Exit: the mappings go now, the tables when ksmd drops the slot; slabs stay (records are reused).
  core.exit(id);
  core.scanBatch(2000, 1);
  core.scanBatch(2000, 2);
  const gone = core.engineMemory();
  assert.is(gone.tableBytes, 0, 'tables freed with the space');
  assert.is(gone.itemAreaBytes, 0, 'item areas freed with them');
  assert.is(gone.recordsInUse, 0, 'every item freed');
  assert.is(gone.slabBytes, scanned.slabBytes, 'slab blocks are kept for later records');
  assert.is(gone.peakSlabAndTableBytes, scanned.peakSlabAndTableBytes, 'the peak does not fall');

  // Another space of the same size takes the freed blocks and item area again: nothing more is handed out.
  const again = core.createSpace(1000);
  for (let vpn = 0; vpn < 1000; vpn++) {
    page[0] = vpn & 0xff; page[1] = vpn >> 8;
    core.write(again, vpn * BLOCK, page);
  }
  core.madvise(again, 0, 1000, MADV_MERGEABLE);
  core.scanBatch(2000, 3);
  const reused = core.engineMemory();
  assert.is(reused.itemAreaBytes, scanned.itemAreaBytes);
  assert.is(reused.blocksInUse, scanned.blocksInUse, 'the same blocks in use as the first space took');
  assert.is(reused.peakSlabAndTableBytes, scanned.peakSlabAndTableBytes, 'and no new peak');
});

test.run();
