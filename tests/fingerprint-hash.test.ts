/**
 * Fingerprint records (src/fingerprint/hash.ts): the checksum is the kernel's (the core's
 * pageChecksum), the zero flag, the zero page's high half of 0 (it sorts first), equal pages give
 * equal records, a one-bit change gives another fingerprint, and the shard is a function of the
 * fingerprint alone.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from 'fast-check';
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { loadWasmBackend, type WasmBackend } from '../src/core.js';
import {
  FP_RECORD_SIZE, PageHasher, fingerprintPages, recordChecksum, recordFingerprintHex, recordIsZero, shardBits,
} from '../src/fingerprint/hash.js';
import { xxh64Low32 } from '../src/reference/xxh64.js';
import { FILE_VERSION } from '../src/fingerprint/file.js';
import { PAGE, image, randomPage, zeroPage } from './helpers/pages.js';

const test = suite('fingerprint hash');
let core: WasmBackend;

test.before(async () => { core = await loadWasmBackend({ debug: true, maxMemory: 4 << 20 }); });

/** The core's pageChecksum of one page (through the scratch area). */
const coreChecksum = (page: Uint8Array): number => {
  core.scratch().set(page);
  return core.scratchChecksum(0);
};

/** Up to `n` pages of real data: the Node binary, from its middle (code and data, not padding). */
function realPages(n: number): Uint8Array[] {
  const fd = openSync(process.execPath, 'r');
  try {
    const size = fstatSync(fd).size;
    const count = Math.min(n, Math.floor(size / PAGE));
    const buffer = new Uint8Array(count * PAGE);
    readSync(fd, buffer, 0, buffer.length, Math.floor((size - buffer.length) / 2 / PAGE) * PAGE);
    return Array.from({ length: count }, (_, i) => buffer.slice(i * PAGE, (i + 1) * PAGE));
  } finally {
    closeSync(fd);
  }
}

test('the record layout: 24 bytes', () => {
  assert.is(FP_RECORD_SIZE, 24);
  assert.is(fingerprintPages(image([randomPage('a'), randomPage('b')])).length, 2 * 24);
});

test('the checksum is the core\'s pageChecksum, on random pages and on real ones', () => {
  const pages = [...Array.from({ length: 64 }, (_, i) => randomPage(`r${i}`)), ...realPages(300)];
  assert.ok(pages.length > 300, 'real pages were read');
  const records = fingerprintPages(image(pages));
  pages.forEach((page, i) => {
    assert.is(recordChecksum(records, i), coreChecksum(page), `page ${i}`);
    assert.is(recordChecksum(records, i), xxh64Low32(page), `page ${i} (reference XXH64)`);
  });
});

test('the zero flag is set for all-zero pages only', () => {
  const late = zeroPage();
  late[PAGE - 1] = 0x80;
  const early = zeroPage();
  early[0] = 1;
  const records = fingerprintPages(image([zeroPage(), late, early, randomPage('z')]));
  assert.equal([0, 1, 2, 3].map((i) => recordIsZero(records, i)), [true, false, false, false]);
  assert.is(recordChecksum(records, 0), coreChecksum(zeroPage()));
});

test('the zero page sorts first, as in memcmp\'s order: its high half is 0, every other page\'s is not', () => {
  const pages = [zeroPage(), ...Array.from({ length: 200 }, (_, i) => randomPage(`o${i}`)), ...realPages(200)];
  const records = fingerprintPages(image(pages));
  assert.is(recordFingerprintHex(records, 0).slice(0, 16), '0'.repeat(16));
  for (let i = 1; i < pages.length; i++) assert.is.not(recordFingerprintHex(records, i).slice(0, 16), '0'.repeat(16), `page ${i}`);
});

test('equal pages give equal records, wherever they sit in the input', () => {
  const a = randomPage('same');
  const records = fingerprintPages(image([a, randomPage('x'), a.slice(), zeroPage(), a.slice()]));
  const record = (i: number) => Buffer.from(records.subarray(i * FP_RECORD_SIZE, (i + 1) * FP_RECORD_SIZE)).toString('hex');
  assert.is(record(0), record(2));
  assert.is(record(0), record(4));
  assert.is.not(record(0), record(1));
  // More than one chunk of the hasher (256 pages): the same page far apart.
  const many = Array.from({ length: 600 }, (_, i) => (i % 299 === 0 ? a : randomPage(`m${i}`)));
  const far = fingerprintPages(image(many));
  assert.is(recordFingerprintHex(far, 0), recordFingerprintHex(records, 0));
  assert.is(recordFingerprintHex(far, 598), recordFingerprintHex(records, 0));
});

test('a one-bit change gives a different fingerprint, in both halves', () => {
  const hasher = new PageHasher();
  fc.assert(fc.property(fc.integer({ min: 0, max: 1 << 30 }), fc.integer({ min: 0, max: PAGE * 8 - 1 }), fc.boolean(), (seed, bit, zeroBase) => {
    const page = zeroBase ? zeroPage() : randomPage(`bit${seed}`);
    const flipped = page.slice();
    flipped[bit >> 3] ^= 1 << (bit & 7);
    const records = hasher.fingerprintPages(image([page, flipped]));
    const [a, b] = [recordFingerprintHex(records, 0), recordFingerprintHex(records, 1)];
    return a.slice(0, 16) !== b.slice(0, 16) && a.slice(16) !== b.slice(16) && recordIsZero(records, 1) === false;
  }), { numRuns: 2000, seed: 10 });
});

test('stripes of a page are not interchangeable (swapping two 64-byte stripes changes the high half)', () => {
  const hasher = new PageHasher();
  for (let i = 0; i < 200; i++) {
    const page = randomPage(`swap${i}`);
    const [s, t] = [i % 64, (i * 7 + 1) % 64];
    if (s === t) continue;
    const swapped = page.slice();
    swapped.set(page.subarray(s * 64, s * 64 + 64), t * 64);
    swapped.set(page.subarray(t * 64, t * 64 + 64), s * 64);
    const records = hasher.fingerprintPages(image([page, swapped]));
    assert.is.not(recordFingerprintHex(records, 0).slice(0, 16), recordFingerprintHex(records, 1).slice(0, 16), `stripes ${s} and ${t}`);
  }
});

test('no two of 20000 distinct pages share a fingerprint or a half of one', () => {
  const pages = new Uint8Array(20000 * PAGE);
  // Pages that differ little: a counter in a zero page, at varying places.
  for (let i = 0; i < 20000; i++) new DataView(pages.buffer).setUint32(i * PAGE + (i % 1000) * 4, i + 1, true);
  const records = fingerprintPages(pages);
  const highs = new Set<string>();
  const lows = new Set<string>();
  for (let i = 0; i < 20000; i++) {
    const hex = recordFingerprintHex(records, i);
    highs.add(hex.slice(0, 16));
    lows.add(hex.slice(16));
  }
  assert.is(highs.size, 20000);
  assert.is(lows.size, 20000);
});

test('shardBits: equal for equal pages, 0 for the zero page, and their top bits spread evenly', () => {
  const pages = Array.from({ length: 4000 }, (_, i) => randomPage(`s${i}`));
  const records = fingerprintPages(image(pages));
  for (const bits of [1, 3, 6]) {
    const counts = new Array<number>(1 << bits).fill(0);
    for (let i = 0; i < pages.length; i++) counts[shardBits(records, i) >>> (32 - bits)]++;
    const each = 4000 / (1 << bits);
    for (const c of counts) assert.ok(Math.abs(c - each) < 5 * Math.sqrt(each) + 1, `top ${bits} bits: ${counts}`);
  }
  assert.is(shardBits(fingerprintPages(pages[17])), shardBits(records, 17));
  assert.is(shardBits(fingerprintPages(new Uint8Array(PAGE))), 0);
});

/**
 * The fingerprints of three fixed pages, by fingerprint file version: fingerprint files carry
 * fingerprints, so a change to the hash must come with a new FILE_VERSION (older files are then
 * refused rather than mixed in). Changing the hash fails this test until the version is raised and
 * the new version's values are added here.
 */
const KNOWN_FINGERPRINTS: Record<number, { hex: string[]; shardBits: number[] }> = {
  3: { hex: ['0000000000000000ac869b6f32d8bbdb', 'a23dbf8736e81e530f6e64be186af6a4', 'eee9de632716baa71adfd97c6c30014b'], shardBits: [0x0, 0xa23dbf87, 0xeee9de63] },
};

test('the fingerprints of fixed pages are this file version\'s', () => {
  const pages = new Uint8Array(3 * PAGE); // a zero page, bytes counting up, words of i × 0x9e3779b1
  const view = new DataView(pages.buffer);
  for (let i = 0; i < PAGE; i++) pages[PAGE + i] = i & 0xff;
  for (let i = 0; i < PAGE / 4; i++) view.setUint32(2 * PAGE + 4 * i, Math.imul(i, 0x9e3779b1) >>> 0, true);
  const records = fingerprintPages(pages);
  const known = KNOWN_FINGERPRINTS[FILE_VERSION];
  assert.ok(known, `no known fingerprints for file version ${FILE_VERSION}: add them here`);
  assert.equal([0, 1, 2].map((i) => recordFingerprintHex(records, i)), known.hex, `the hash changed: raise FILE_VERSION (now ${FILE_VERSION}) and add the new values`);
  // Map/reduce jobs on different machines must deal pages to the same shards.
  assert.equal([0, 1, 2].map((i) => shardBits(records, i)), known.shardBits, 'shardBits changed: raise FILE_VERSION too');
});

test('bad input: not a whole number of pages', () => {
  assert.throws(() => fingerprintPages(new Uint8Array(PAGE + 1)), /whole number/);
});

test.run();
