/**
 * AddressSpace.writeFingerprints: a fingerprint engine fed records made elsewhere (the browser's
 * workers, a fingerprint file) reaches the counters it reaches from the pages themselves; any
 * other engine, records of the wrong length and pages out of range are refused with a typed error
 * and change nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, KsmError, PAGE_SIZE } from '../src/index.js';
import { fingerprintPages, FP_RECORD_SIZE } from '../src/fingerprint/hash.js';

const test = suite('AddressSpace.writeFingerprints');

/** Guest g's pages: half shared by all guests, a few zero pages, the rest its own. */
function guestPages(g: number, pages: number): Uint8Array {
  const bytes = new Uint8Array(pages * PAGE_SIZE);
  const view = new DataView(bytes.buffer);
  for (let p = 0; p < pages; p++) {
    if (p % 7 === 0) continue; // zero page
    view.setUint32(p * PAGE_SIZE, p % 2 === 0 ? p : 1_000_000 + g * pages + p, true);
  }
  return bytes;
}

async function settle(load: (ksm: Ksm, g: number, pages: Uint8Array) => void) {
  const ksm = await Ksm.create({ engine: 'fingerprints' });
  ksm.setKnob('pagesToScan', 1000);
  ksm.setKnob('run', 1);
  for (let g = 0; g < 3; g++) load(ksm, g, guestPages(g, 300));
  const stats = ksm.scanFull(4);
  ksm.close();
  return stats;
}

test('records written give the counters of the pages written', async () => {
  const fromPages = await settle((ksm, g, pages) => {
    const space = ksm.createSpace({ name: `g${g}`, pages: 300 });
    space.write(0, pages);
    space.mergeable();
  });
  const fromRecords = await settle((ksm, g, pages) => {
    const space = ksm.createSpace({ name: `g${g}`, pages: 300 });
    space.writeFingerprints(0, fingerprintPages(pages));
    space.mergeable();
  });
  assert.equal(fromRecords, fromPages);
  assert.ok(fromPages.pagesSharing > 0);
});

test('refused: another engine, a partial record, pages out of range; nothing written', async () => {
  const records = fingerprintPages(guestPages(0, 4));
  const pageKsm = await Ksm.create();
  const other = pageKsm.createSpace({ name: 'p', pages: 4 });
  assert.throws(() => other.writeFingerprints(0, records), (e: unknown) => e instanceof KsmError && e.code === 'EINVAL' && /engine 'fingerprints'/.test(e.message));
  pageKsm.close();
  const ksm = await Ksm.create({ engine: 'fingerprints' });
  const space = ksm.createSpace({ name: 'f', pages: 4 });
  assert.throws(() => space.writeFingerprints(0, records.subarray(0, FP_RECORD_SIZE + 3)), (e: unknown) => e instanceof KsmError && e.code === 'EINVAL' && /whole 24-byte records/.test(e.message));
  assert.throws(() => space.writeFingerprints(2, records), (e: unknown) => e instanceof KsmError && e.code === 'EINVAL' && /outside its 4 pages/.test(e.message));
  assert.is(ksm.live().mappedPages, 0, 'no page was written');
  ksm.close();
});

test.run();
