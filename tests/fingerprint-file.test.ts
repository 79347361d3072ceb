/**
 * The fingerprint file read as a stream (src/fingerprint/file.ts): its entries come back as they
 * were written, chunk by chunk, each input from its own place; a file changed after it was
 * checked is refused when its entries are read again.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRY_SIZE, readFingerprintFile, writeFingerprintFile } from '../src/fingerprint/file.js';
import { FP_RECORD_SIZE, fingerprintPages } from '../src/fingerprint/hash.js';
import { openScaledScenario } from '../src/estimate/scaled.js';
import { PAGE_SIZE } from '../src/estimate/source.js';

const test = suite('fingerprint file, streamed');
let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-fp-file-')); });
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('every input\'s entries stream back as written: page indices in order, the pages\' records', () => {
  const sources = openScaledScenario('mixed', 6 * 700 * PAGE_SIZE);
  const path = join(dir, 'mixed.kfp');
  writeFingerprintFile(path, sources);
  const file = readFingerprintFile(path);
  sources.forEach((source, i) => {
    const bytes: Uint8Array[] = [];
    source.read((chunk) => bytes.push(chunk.slice()));
    const records = fingerprintPages(new Uint8Array(Buffer.concat(bytes)));
    const entries: Uint8Array[] = [];
    file.readEntries(i, (chunk) => entries.push(chunk.slice()));
    const all = new Uint8Array(Buffer.concat(entries));
    assert.is(all.length, source.pages * ENTRY_SIZE);
    const view = new DataView(all.buffer);
    for (let p = 0; p < source.pages; p++) {
      assert.is(view.getUint32(p * ENTRY_SIZE, true), p);
      assert.equal(all.subarray(p * ENTRY_SIZE + 4, (p + 1) * ENTRY_SIZE), records.subarray(p * FP_RECORD_SIZE, (p + 1) * FP_RECORD_SIZE));
    }
  });
});

test('a file changed since it was checked is refused when read again', () => {
  const path = join(dir, 'clones.kfp');
  writeFingerprintFile(path, openScaledScenario('clones', 8 * 64 * PAGE_SIZE));
  const file = readFingerprintFile(path);
  utimesSync(path, new Date(), new Date(Date.now() + 60_000));
  assert.throws(() => file.readEntries(0, () => undefined), /changed since it was checked/);
});

test.run();
