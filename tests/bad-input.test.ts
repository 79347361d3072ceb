/**
 * Bad input gets a KsmError with an errno-like code and a message naming the thing, and changes
 * nothing: no page, counter or mapping moves.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, KsmError, type AddressSpace, type KsmErrorCode } from '../src/index.js';
import { fillPage, image, randomPage } from './helpers/pages.js';

function throwsKsm(fn: () => unknown, code: KsmErrorCode, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, KsmError);
    assert.is((error as KsmError).code, code, (error as Error).message);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected KsmError ${code}`);
}

/** Everything observable: counters, live figures, every page's bytes and mapping. */
function snapshot(ksm: Ksm, spaces: AddressSpace[]) {
  return JSON.stringify({
    stats: ksm.stats(),
    live: ksm.live(),
    knobs: ksm.knobs,
    spaces: spaces.map((s) => ({
      stat: s.ksmStat(),
      pages: Array.from({ length: s.pages }, (_, p) => [Buffer.from(s.read(p)).toString('base64'), s.pageInfo(p)]),
    })),
  });
}

async function host(engine: 'wasm' | 'reference', maxMemory = 16 << 20) {
  const ksm = await Ksm.create({ engine, debug: true, maxMemory, knobs: { pagesToScan: 10000 } });
  const g = ksm.createSpace({ name: 'guest', image: image([randomPage('a'), randomPage('a'), randomPage('b'), randomPage('c')]), mergeable: true });
  ksm.setKnob('run', 1);
  ksm.scanFull(2);
  return { ksm, g };
}

for (const engine of ['wasm', 'reference'] as const) {
  const test = suite(`bad input (${engine})`);

  test('pages out of range or not integers', async () => {
    const { ksm, g } = await host(engine);
    const before = snapshot(ksm, [g]);
    throwsKsm(() => g.read(4), 'EINVAL', /page 4 is outside its 4 pages/);
    throwsKsm(() => g.read(-1), 'EINVAL', /page -1/);
    throwsKsm(() => g.read(1.5), 'EINVAL', /page 1.5/);
    throwsKsm(() => g.write(3, new Uint8Array(10), 4090), 'EINVAL', /run past its 16384 bytes/);
    throwsKsm(() => g.write(0, new Uint8Array(1), -1), 'EINVAL', /offset -1/);
    throwsKsm(() => g.write(0, [1, 2] as unknown as Uint8Array), 'EINVAL', /Uint8Array/);
    throwsKsm(() => g.madvise(2, 3, 'unmergeable'), 'EINVAL', /pages 2\.\.4 are outside/);
    throwsKsm(() => g.madvise(0, 1, 'willneed' as never), 'EINVAL', /unknown advice "willneed"/);
    throwsKsm(() => g.unmap(0, -1), 'EINVAL', /outside/);
    throwsKsm(() => ksm.createSpace({ pages: 0 }), 'EINVAL', /pages must be an integer/);
    throwsKsm(() => ksm.createSpace({ name: 'odd', image: new Uint8Array(100) }), 'EINVAL', /space "odd": image must be .* multiple of 4096/);
    assert.is(snapshot(ksm, [g]), before, 'nothing changed');
  });

  test('unknown knobs and values the kernel refuses', async () => {
    const { ksm, g } = await host(engine);
    const before = snapshot(ksm, [g]);
    // @ts-expect-error a misspelt knob does not compile; at run time it is EINVAL
    throwsKsm(() => ksm.setKnob('pages_to_scann', 5), 'EINVAL', /unknown knob "pages_to_scann"/);
    throwsKsm(() => ksm.setKnob('run', 3), 'EINVAL', /run must be an integer from 0 to 2/);
    throwsKsm(() => ksm.setKnob('max_page_sharing', 1), 'EINVAL', /max_page_sharing/);
    throwsKsm(() => ksm.setKnob('use_zero_pages', 2), 'EINVAL', /use_zero_pages/);
    throwsKsm(() => ksm.setKnob('sleep_millisecs', 'soon'), 'EINVAL', /sleep_millisecs/);
    throwsKsm(() => ksm.setKnob('advisor_mode', 'fast'), 'EINVAL', /advisor_mode/);
    throwsKsm(() => ksm.setKnob('advisor_target_scan_time', 0), 'EINVAL', /advisor_target_scan_time/);
    // @ts-expect-error a counter is not a knob: no write compiles; at run time it is EINVAL
    throwsKsm(() => ksm.writeSysfs('pages_shared', 0), 'EINVAL', /read-only/);
    throwsKsm(() => ksm.setKnob('max_page_sharing', 10), 'EBUSY', /max_page_sharing can only change while no KSM page exists/);
    throwsKsm(() => ksm.setKnob('merge_across_nodes', 0), 'EBUSY', /merge_across_nodes/);
    assert.is(snapshot(ksm, [g]), before, 'nothing changed');
    ksm.setKnob('advisor_mode', 'scan-time');
    throwsKsm(() => ksm.setKnob('pages_to_scan', 100), 'EINVAL', /advisor_mode is scan-time/);
  });

  test('knob values parse as the kernel parses them', async () => {
    const { ksm, g } = await host(engine);
    const before = snapshot(ksm, [g]);
    for (const bad of ['0x10', '1e2', ' 5', '5 ', '', '1.0', '-1']) {
      throwsKsm(() => ksm.setKnob('pages_to_scan', bad), 'EINVAL', /pages_to_scan must be an integer/);
    }
    throwsKsm(() => ksm.setKnob('use_zero_pages', 'maybe'), 'EINVAL', /use_zero_pages takes 0 or 1/);
    throwsKsm(() => ksm.setKnob('smart_scan', 2), 'EINVAL', /smart_scan/);
    throwsKsm(() => ksm.readSysfs('toString' as never), 'EINVAL', /unknown knob "toString"/);
    throwsKsm(() => ksm.setKnob('constructor' as never, 1), 'EINVAL', /unknown knob "constructor"/);
    throwsKsm(() => g.madvise(0, 1, 'toString' as never), 'EINVAL', /unknown advice "toString"/);
    throwsKsm(() => g.setMergeAny('no' as never), 'EINVAL', /expected true or false/);
    throwsKsm(() => g.readBytes(0, NaN), 'EINVAL', /length NaN/);
    throwsKsm(() => ksm.scanFull(0), 'EINVAL', /count must be a positive integer/);
    assert.is(snapshot(ksm, [g]), before, 'nothing changed');
    ksm.setKnob('pages_to_scan', '250\n'); // a write from a shell ends in a newline
    ksm.setKnob('use_zero_pages', 'on');
    ksm.setKnob('smart_scan', 'n');
    assert.equal([ksm.knobs.pagesToScan, ksm.knobs.useZeroPages, ksm.knobs.smartScan], [250, 1, 0]);
  });

  test('scanFull refuses when ksmd cannot finish a scan', async () => {
    const ksm = await Ksm.create({ engine, knobs: { run: 1 } });
    ksm.createSpace({ name: 'unregistered', pages: 2 });
    throwsKsm(() => ksm.scanFull(), 'EINVAL', /no address space is registered/);
  });

  test('max_page_sharing changes once run=2 has removed the KSM pages', async () => {
    const { ksm } = await host(engine);
    ksm.setKnob('run', 2);
    ksm.setKnob('max_page_sharing', 10);
    assert.is(ksm.knobs.maxPageSharing, 10);
    assert.is(ksm.readSysfs('max_page_sharing'), '10');
  });

  test('operations on an exited space', async () => {
    const { ksm, g } = await host(engine);
    g.close();
    const before = snapshot(ksm, []);
    throwsKsm(() => g.read(0), 'EINVAL', /space "guest": the space has exited/);
    throwsKsm(() => g.readBytes(0, 10), 'EINVAL', /exited/);
    throwsKsm(() => g.write(0, new Uint8Array(1)), 'EINVAL', /exited/);
    throwsKsm(() => g.mergeable(), 'EINVAL', /exited/);
    throwsKsm(() => g.fork(), 'EINVAL', /exited/);
    throwsKsm(() => g.setMergeAny(true), 'EINVAL', /exited/);
    assert.is(snapshot(ksm, []), before);
    g.close(); // a second exit is harmless
  });

  test('unmapped pages give EFAULT', async () => {
    const { ksm, g } = await host(engine);
    g.unmap(1, 2);
    const before = snapshot(ksm, []);
    throwsKsm(() => g.read(1), 'EFAULT', /page 1 is not mapped/);
    throwsKsm(() => g.write(0, new Uint8Array(4097)), 'EFAULT', /page 1 is not mapped/);
    throwsKsm(() => g.madvise(0, 4, 'mergeable'), 'EFAULT', /page 1 is not mapped/);
    assert.is(snapshot(ksm, []), before);
    assert.equal(g.read(3), randomPage('c'));
  });

  test.run();
}

// The memory cap is the core's (linear memory); the reference engine has none.
const cap = suite('memory cap (wasm)');

cap('ENOMEM in the middle of copy-on-write breaks changes nothing', async () => {
  const ksm = await Ksm.create({ engine: 'wasm', debug: true, maxMemory: 1 << 20, knobs: { pagesToScan: 10000 } });
  const spaces = Array.from({ length: 8 }, (_, i) =>
    ksm.createSpace({ name: `s${i}`, image: image([fillPage(7), fillPage(7), fillPage(7), fillPage(7)]), mergeable: true }));
  ksm.setKnob('run', 1);
  ksm.scanFull(2);
  assert.is(ksm.live().framesInUse, 1, 'the 32 pages merged into one frame');
  // Fill the rest of memory with private pages, until the cap refuses.
  let fillers = 0;
  for (const pages of [16, 1]) {
    try {
      for (;;) { ksm.createSpace({ name: `filler${fillers}`, image: image(Array.from({ length: pages }, (_, p) => randomPage(`f${fillers}.${p}`))) }); fillers++; }
    } catch (error) {
      assert.is((error as KsmError).code, 'ENOMEM');
      assert.match((error as Error).message, /memory cap/);
    }
  }
  let failed: KsmError | undefined;
  let before = '';
  for (let i = 0; i < 32 && !failed; i++) {
    before = snapshot(ksm, spaces);
    try {
      spaces[i >> 2].write(i & 3, new Uint8Array([1]), 0);
    } catch (error) {
      failed = error as KsmError;
    }
  }
  assert.ok(failed, 'the cap was reached during copy-on-write breaks');
  assert.is(failed!.code, 'ENOMEM');
  assert.match(failed!.message, /memory cap is reached \(nothing was changed\)/);
  assert.is(snapshot(ksm, spaces), before, 'the failed write changed nothing');
  // A write spanning pages is all or nothing too.
  const s = spaces.find((sp) => [0, 1, 2].every((p) => sp.pageInfo(p).mapping === 'ksm'));
  if (!s) return assert.unreachable('a space with three merged pages is left');
  throwsKsm(() => s.write(0, new Uint8Array(3 * 4096).fill(5)), 'ENOMEM', /memory cap/);
  assert.is(snapshot(ksm, spaces), before, 'the multi-page write changed nothing');
  throwsKsm(() => s.unmergeable(), 'ENOMEM', /memory cap/);
  throwsKsm(() => ksm.setKnob('run', 2), 'ENOMEM', /run is now 0/);
  assert.is(ksm.knobs.run, 0);
  assert.is(snapshot(ksm, spaces), before.replace('"run":1', '"run":0'), 'a refused unmerge changed nothing');
});

cap.run();
