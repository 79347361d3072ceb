/** The core's page primitives: the kernel's checksum (known answers), memcmp order, zero check. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { loadWasmBackend, type WasmBackend } from '../src/core.js';
import { prng, randomPage } from './helpers/pages.js';

const test = suite('core primitives');
let core: WasmBackend;

test.before(async () => { core = await loadWasmBackend({ debug: true, maxMemory: 4 << 20 }); });

const xxh64 = (bytes: Uint8Array): bigint => {
  core.scratch().set(bytes);
  return core.scratchXxh64(bytes.length);
};

test('XXH64 known answers (seed 0)', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.is(xxh64(text('')), 0xef46db3751d8e999n);
  assert.is(xxh64(text('a')), 0xd24ec4f1a98c6e5bn);
  assert.is(xxh64(text('abc')), 0x44bc2cf5ad770999n);
  // Longer than one 32-byte stripe, with 8-, 4- and 1-byte tails.
  assert.is(xxh64(text('Nobody inspects the spammish repetition')), 0xfbcea83c8a378bf1n);
});

test('the page checksum is XXH64 of the page truncated to 32 bits', () => {
  for (const key of ['a', 'b', 'c']) {
    const page = randomPage(key);
    core.scratch().set(page);
    assert.is(core.scratchChecksum(0), Number(xxh64(page) & 0xffffffffn), `page ${key}`);
  }
  core.scratch().fill(0, 0, 4096);
  assert.is(core.scratchChecksum(0), Number(xxh64(new Uint8Array(4096)) & 0xffffffffn), 'zero page');
});

test('compare orders pages as memcmp (unsigned bytes, first difference)', () => {
  const next = prng(7);
  for (let round = 0; round < 200; round++) {
    const a = randomPage(`cmp${round}`);
    const b = a.slice();
    const at = Math.floor(next() * 4096);
    b[at] = (a[at] + 1 + Math.floor(next() * 255)) & 0xff;
    const s = core.scratch();
    s.set(a, 0); s.set(b, 4096);
    const expected = Math.sign(Buffer.compare(a, b));
    assert.is(Math.sign(core.scratchCompare(0, 1)), expected, `difference at byte ${at}`);
    assert.is(Math.sign(core.scratchCompare(1, 0)), -expected);
    s.set(a, 4096);
    assert.is(core.scratchCompare(0, 1), 0, 'equal pages');
  }
});

test('zero check and copy', () => {
  const s = core.scratch();
  s.fill(0, 0, 8192);
  assert.ok(core.scratchIsZero(0));
  s[4095] = 1;
  assert.not.ok(core.scratchIsZero(0), 'a last byte set is not zero');
  s.set(randomPage('copy'), 4096);
  core.scratchCopy(0, 1);
  assert.is(core.scratchCompare(0, 1), 0);
  assert.is(createHash('sha256').update(s.subarray(0, 4096)).digest('hex'), createHash('sha256').update(randomPage('copy')).digest('hex'));
});

test.run();
