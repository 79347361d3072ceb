/** The background ksmd: timers, waking, AbortSignal, errors and listeners. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, KsmError } from '../src/index.js';
import { fillPage } from './helpers/pages.js';

const test = suite('background ksmd');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits until `done()` holds, or 10 s (timers run late on a loaded machine: progress is awaited, never timed). */
async function until(done: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !done() && Date.now() < deadline;) await sleep(5);
}

async function host(knobs = {}) {
  const ksm = await Ksm.create({ knobs: { sleep_millisecs: 1, ...knobs } });
  for (const name of ['a', 'b']) ksm.createSpace({ name, image: fillPage(3), mergeable: true });
  return ksm;
}

test('start() scans in the background until the signal aborts; run=0 idles it', async () => {
  const ksm = await host();
  const controller = new AbortController();
  ksm.start({ signal: controller.signal });
  await until(() => ksm.stats().fullScans >= 2);
  assert.ok(ksm.stats().fullScans >= 2, 'several full scans ran');
  assert.is(ksm.stats().pagesSharing, 1);
  ksm.setKnob('run', 0);
  const idle = ksm.stats().fullScans;
  await sleep(30);
  assert.is(ksm.stats().fullScans, idle, 'no scan while run=0');
  assert.ok(ksm.running, 'still started, idle');
  ksm.setKnob('run', 1);
  await until(() => ksm.stats().fullScans > idle);
  assert.ok(ksm.stats().fullScans > idle, 'run=1 wakes it');
  controller.abort();
  assert.not.ok(ksm.running);
  const stopped = ksm.stats().fullScans;
  await sleep(20);
  assert.is(ksm.stats().fullScans, stopped, 'stopped for good');
});

test('a sleep longer than a timer can hold does not make ksmd spin', async () => {
  const ksm = await host({ sleep_millisecs: 3_000_000_000 });
  ksm.start();
  await until(() => ksm.stats().fullScans >= 1);
  await sleep(50);
  ksm.stop();
  assert.is(ksm.stats().fullScans, 1, 'one batch, then a long sleep');
});

test('a failing listener does not keep the others from running; its error reaches onError', async () => {
  const ksm = await host();
  const seen: number[] = [];
  ksm.onFullScan(() => { throw new Error('listener boom'); });
  ksm.onFullScan((stats) => seen.push(stats.fullScans));
  ksm.setKnob('run', 1);
  assert.throws(() => ksm.scanFull(), /listener boom/);
  assert.equal(seen, [1], 'the second listener ran');
  const errors: unknown[] = [];
  ksm.start({ onError: (error) => errors.push(error) });
  await until(() => errors.length > 0);
  assert.not.ok(ksm.running, 'ksmd stopped on the error');
  assert.is(errors.length, 1);
  assert.match(String(errors[0]), /listener boom/);
});

test('an error in a background batch stops ksmd and reaches onError', async () => {
  const ksm = await Ksm.create({ maxMemory: 1 << 20, knobs: { sleep_millisecs: 1, pages_to_scan: 100000 } });
  // Fill memory, page by page, until not one block is left for rmap items.
  const space = ksm.createSpace({ name: 'big', pages: 4096, mergeable: true });
  let written = 0;
  try {
    for (; written < 4096; written++) space.write(written, new Uint8Array([written & 0xff, written >> 8, 1]));
  } catch (error) {
    assert.is((error as KsmError).code, 'ENOMEM');
  }
  assert.ok(written > 0 && written < 4096, 'memory ran out');
  const errors: unknown[] = [];
  ksm.start({ onError: (error) => errors.push(error) });
  await until(() => errors.length > 0);
  assert.not.ok(ksm.running);
  assert.is(errors.length, 1);
  assert.instance(errors[0], KsmError);
  assert.is((errors[0] as KsmError).code, 'ENOMEM');
});

test('the first space to register wakes a ksmd that waits for work (the kernel\'s __ksm_enter)', async () => {
  const ksm = await Ksm.create({ knobs: { run: 1 } });
  const a = ksm.createSpace({ name: 'a', image: fillPage(3) });
  assert.equal(ksm.scan(), { ran: false, scanned: 0, fullScan: false }, 'nothing registered: ksmd waits');
  a.mergeable();
  assert.ok(ksm.takeKsmdWakeup(), 'the registration woke it');
  assert.not.ok(ksm.takeKsmdWakeup(), 'once');
  ksm.scan();
  const b = ksm.createSpace({ name: 'b', image: fillPage(3) });
  b.mergeable();
  assert.not.ok(ksm.takeKsmdWakeup(), 'a second space does not: ksmd was not waiting');
});

test.run();
