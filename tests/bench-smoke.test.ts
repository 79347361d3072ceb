/**
 * The benchmarks run and produce well-formed figures: the quick bench's cheapest suite (the page
 * primitives), in-process, with samples of a few milliseconds. Times are never asserted here
 * (speed is measured in `npm run bench`, not tested); only that every figure is a finite positive
 * number, every table has its rows, and the JSON figures and table agree on what was measured.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Context, round } from '../bench/lib.js';
import { primitives } from '../bench/primitives.js';
import { floorFor, readAll } from '../bench/floor.js';
import { WAYS, checksumCeiling } from '../bench/checksum-ceiling.js';

const test = suite('bench smoke');

test('the floor module reads exactly the bytes it is given', () => {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const bytes = new Uint8Array(memory.buffer);
  bytes[100] = 1;
  bytes[4096 + 5] = 0x80;
  const floor = floorFor(memory);
  assert.is(floor.readScalar(0, 8192), 0x800100000000n);
  assert.is(floor.readSimd(0, 8192), 0x800100000000n);
  // Two pages listed at 65536 - 64, read in pieces of one address each.
  assert.is(readAll(floor, memory, new Uint32Array([0, 4096]), 65536 - 64, 1), 0x800100000000n);
});

test('the primitives suite yields a table of finite, positive figures for every implementation', async () => {
  const ctx = new Context({ quick: true, smoke: true, print: false, verbose: false, only: [], jsonPath: '', kernelWait: 0 });
  ctx.begin('primitives');
  await primitives(ctx);

  const tables = Object.values(ctx.suites.primitives.tables);
  assert.is(tables.length, 1);
  const rows = tables[0];
  const groups = new Set(rows.map((r) => r.primitive));
  for (const g of ['read-once floor', 'checksum', 'compare, equal pages', 'compare, differ in byte 0', 'compare, differ in byte 4095', 'zero check', 'copy']) {
    assert.ok(groups.has(g), `a row for ${g}`);
  }
  for (const row of rows) {
    for (const column of ['ns/page', 'M pages/s', 'GB/s']) {
      const v = row[column];
      assert.type(v, 'number', `${row.primitive} · ${row.implementation}: ${column}`);
      assert.ok(Number.isFinite(v) && (v as number) > 0, `${row.primitive} · ${row.implementation}: ${column} = ${v}`);
    }
    assert.match(String(row['vs floor']), /^[0-9.]+×$/);
    // The JSON figure is the table's number, before rounding.
    const figure = ctx.figures[`primitives.${row.primitive}.${row.implementation}.nsPerPage`];
    assert.is(round(figure), row['ns/page']);
  }
  assert.ok(ctx.figures['primitives.floor.wasmSimd.pagesPerSec'] > 0);
  assert.ok(ctx.suites.primitives.notes.some((n) => n.includes('Warm-up')), 'says how warm-up was done');
});

test('the checksum ceiling compiles its three ways, checks them against the engine\'s checksum, and times them', async () => {
  for (const inCache of [false, true]) {
    const run = await checksumCeiling(1 << 20, inCache, 1);
    assert.ok(Number.isFinite(run.floorMs) && run.floorMs > 0, `floor ms ${run.floorMs}`);
    for (const way of WAYS) assert.ok(Number.isFinite(run.ms[way]) && run.ms[way] > 0, `${way}: ${run.ms[way]} ms`);
    for (const way of WAYS) assert.ok(run.ms[run.fastest] <= run.ms[way], `the fastest, ${run.fastest}, is no slower than ${way}`);
  }
});

test.run();
