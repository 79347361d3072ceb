// Ksm.close() and Symbol.dispose: the engine is released, and every later call says so.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, KsmError } from '../src/index.js';

const image = new Uint8Array(2 * 4096).fill(7);

function throwsClosed(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof KsmError, `a KsmError, got ${String(error)}`);
    assert.is((error as KsmError).code, 'EINVAL');
    assert.match((error as KsmError).message, pattern);
    return;
  }
  assert.unreachable('did not throw');
}

for (const engine of ['wasm', 'reference'] as const) {
  test(`close() (${engine}): ksmd stops, the host and its spaces refuse every later call`, async () => {
    const ksm = await Ksm.create({ engine, knobs: { sleep_millisecs: 1000 } });
    const space = ksm.createSpace({ name: 'g', image, mergeable: true });
    ksm.start();
    assert.ok(ksm.running);
    ksm.close();
    assert.ok(ksm.closed && space.closed, 'both say closed');
    assert.not.ok(ksm.running, 'the background ksmd stopped');
    assert.equal(ksm.spaces(), []);
    assert.is(ksm.engine, engine);
    throwsClosed(() => ksm.scan(), /this Ksm was closed/);
    throwsClosed(() => ksm.stats(), /this Ksm was closed/);
    throwsClosed(() => ksm.createSpace({ image }), /this Ksm was closed/);
    throwsClosed(() => ksm.setKnob('max_page_sharing', 3), /this Ksm was closed/);
    throwsClosed(() => space.read(0), /space "g": its Ksm was closed/);
    throwsClosed(() => space.write(0, new Uint8Array(1)), /its Ksm was closed/);
    throwsClosed(() => space.fork(), /its Ksm was closed/);
    space.close(); // harmless: it went with its Ksm
    ksm.close();   // and so is closing twice
  });
}

test('Symbol.dispose closes it (what `using` calls)', async () => {
  const ksm = await Ksm.create();
  ksm[Symbol.dispose]();
  assert.ok(ksm.closed);
});

test.run();
