/**
 * The allocator's own account of the engine's memory (WasmBackend.engineMemory, which the bench's
 * memory suite divides by the tracked pages): page-table blocks follow the spaces, record slabs
 * follow the records, the peak never falls, the frame table is what the cap reserved, and the part
 * of it touched follows the blocks handed out.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadWasmBackend } from '../src/core.js';
import { MADV_MERGEABLE, RECORD_SIZE } from '../src/generated/core-abi.js';

const test = suite('engine memory');
const BLOCK = 4096;

test('page tables, slabs and their peak, as spaces come, are scanned and go', async () => {
  const core = await loadWasmBackend({ debug: true, maxMemory: 16 << 20 });
  const empty = core.engineMemory();
  assert.is(empty.tableBytes, 0);
  assert.is(empty.slabBytes, 0);
  assert.is(empty.frameTableBytes, ((16 << 20) / BLOCK) * 8, 'the frame table: 8 bytes per frame of the cap');
  assert.is(empty.frameTableTouchedBytes, BLOCK, 'no block handed out: only the table\'s first page (the zero frame\'s entry)');

  // 1000 pages: a directory and two leaves (512 entries each).
  const id = core.createSpace(1000);
  assert.is(core.engineMemory().tableBytes, 3 * BLOCK);
  const page = new Uint8Array(BLOCK);
  for (let vpn = 0; vpn < 1000; vpn++) {
    page[0] = vpn & 0xff; page[1] = vpn >> 8;
    core.write(id, vpn * BLOCK, page);
  }
  core.madvise(id, 0, 1000, MADV_MERGEABLE);
  core.setScanKnobs({ maxPageSharing: 256, useZeroPages: false, smartScan: true, stableNodeChainsPruneMillisecs: 2000, runUnmerge: false });
  core.scanBatch(2000, 0);
  const scanned = core.engineMemory();
  assert.is(scanned.recordsInUse, 1000, 'one rmap item per page');
  const perSlab = Math.floor(BLOCK / RECORD_SIZE);
  assert.ok(scanned.slabBytes >= Math.ceil(1000 / perSlab) * BLOCK, `slabs hold the records: ${scanned.slabBytes}`);
  assert.ok(scanned.slabBytes <= Math.ceil(1003 / perSlab) * BLOCK, `and little more (3 records reserved per page): ${scanned.slabBytes}`);
  assert.is(scanned.peakSlabAndTableBytes, scanned.slabBytes + scanned.tableBytes);
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
  assert.is(gone.recordsInUse, 0, 'every item freed');
  assert.is(gone.slabBytes, scanned.slabBytes, 'slab blocks are kept for later records');
  assert.is(gone.peakSlabAndTableBytes, scanned.peakSlabAndTableBytes, 'the peak does not fall');
});

test.run();
