/**
 * Sharing domains through the public API, on both engines: merging stays inside a domain, the
 * side channel of a copy-on-write on a cross-tenant merge is closed, fork keeps its parent's
 * domain, and bad domain input is refused with nothing changed.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, KsmError } from '../src/index.js';
import { image, randomPage, zeroPage } from './helpers/pages.js';

const SECRET = randomPage('secret');
const COMMON = randomPage('common');

async function host(engine: 'wasm' | 'reference', knobs = {}) {
  return Ksm.create({ engine, debug: true, maxMemory: 16 << 20, knobs: { pagesToScan: 10000, ...knobs } });
}

function throwsKsm(fn: () => unknown, code: string, message: RegExp): void {
  try { fn(); } catch (error) {
    assert.instance(error, KsmError);
    assert.is((error as KsmError).code, code);
    assert.match((error as KsmError).message, message);
    return;
  }
  assert.unreachable('expected a KsmError');
}

for (const engine of ['wasm', 'reference'] as const) {
  const test = suite(`sharing domains (${engine})`);

  test('the side channel: a guessed page merges with a victim in the same domain only, so only there does a write take a copy-on-write', async () => {
    for (const [attackerDomain, expectCow] of [['victim', 1], ['attacker', 0]] as const) {
      const ksm = await host(engine);
      const victim = ksm.createSpace({ name: 'victim', image: image([SECRET, SECRET, COMMON]), mergeable: true, domain: 'victim' });
      const attacker = ksm.createSpace({ name: 'attacker', image: image([SECRET, COMMON]), mergeable: true, domain: attackerDomain });
      ksm.setKnob('run', 1);
      ksm.scanFull(3);
      assert.is(victim.pageInfo(0).mapping, 'ksm', 'the victim\'s own two copies merge');
      const before = ksm.stats().cowKsm;
      attacker.write(0, new Uint8Array([1]));
      assert.is(ksm.stats().cowKsm - before, expectCow, `attacker in domain "${attackerDomain}": cow_ksm moved by ${expectCow}`);
      assert.is(attacker.read(0)[0], 1);
      assert.equal(victim.read(0), SECRET, 'the victim still reads its page');
    }
  });

  test('pages of two domains never share a frame; each domain merges inside itself with the kernel\'s counters', async () => {
    const ksm = await host(engine);
    const guests = ['a', 'a', 'b', 'b', 'b'].map((domain, i) =>
      ksm.createSpace({ name: `g${i}`, image: image([COMMON, randomPage(`own${i}`)]), mergeable: true, domain }));
    ksm.setKnob('run', 1);
    const stats = ksm.scanFull(3);
    assert.is(stats.pagesShared, 2, 'one KSM page per domain');
    assert.is(stats.pagesSharing, 3, '1 in a, 2 in b');
    assert.is(guests[0].pageInfo(0).frame, guests[1].pageInfo(0).frame);
    assert.is(guests[2].pageInfo(0).frame, guests[4].pageInfo(0).frame);
    assert.is.not(guests[0].pageInfo(0).frame, guests[2].pageInfo(0).frame, 'domains a and b keep their own frames');
    assert.equal([...ksm.domains()], [['a', 2], ['b', 3]]);
    assert.equal(guests.map((g) => g.domain), ['a', 'a', 'b', 'b', 'b']);
  });

  test('spaces without a domain share the default one; a fork keeps its parent\'s domain', async () => {
    const ksm = await host(engine);
    const plain = ksm.createSpace({ name: 'plain', image: image([COMMON]), mergeable: true });
    assert.is(plain.domain, 'default');
    const parent = ksm.createSpace({ name: 'parent', image: image([randomPage('p')]), mergeable: true, domain: 't1' });
    const child = parent.fork();
    assert.is(child.domain, 't1');
    child.write(0, COMMON);
    ksm.setKnob('run', 1);
    ksm.scanFull(3);
    assert.is(child.pageInfo(0).mapping, 'private', 'the child\'s page does not merge with the default domain\'s');
    const sibling = parent.fork('sibling');
    sibling.write(0, COMMON);
    ksm.scanFull(3);
    assert.is(child.pageInfo(0).mapping, 'ksm', 'two forks of one parent merge with each other');
    assert.is(child.pageInfo(0).frame, sibling.pageInfo(0).frame);
  });

  test('use_zero_pages=1: zero-filled pages of every domain map the one zero page, as they would alone', async () => {
    const ksm = await host(engine, { useZeroPages: 1 });
    const a = ksm.createSpace({ name: 'a', image: image([zeroPage()]), mergeable: true, domain: 'a' });
    const b = ksm.createSpace({ name: 'b', image: image([zeroPage()]), mergeable: true, domain: 'b' });
    ksm.setKnob('run', 1);
    ksm.scanFull(3);
    assert.is(a.pageInfo(0).mapping, 'zero');
    assert.is(b.pageInfo(0).mapping, 'zero');
    assert.is(ksm.stats().ksmZeroPages, 2);
    const before = ksm.stats().cowKsm;
    a.write(0, new Uint8Array([1]));
    assert.is(ksm.stats().cowKsm, before, 'a write to the zero page is no KSM copy-on-write');
  });

  test('a domain name freed by its last space can be used again, and new names get free ids', async () => {
    const ksm = await host(engine);
    const first = ksm.createSpace({ name: 'x1', image: image([COMMON]), mergeable: true, domain: 'x' });
    ksm.setKnob('run', 1);
    ksm.scanFull(2);
    first.close();
    assert.equal([...ksm.domains()], []);
    const y = ksm.createSpace({ name: 'y', image: image([COMMON]), mergeable: true, domain: 'y' });
    const x = ksm.createSpace({ name: 'x2', image: image([COMMON]), mergeable: true, domain: 'x' });
    ksm.scanFull(3);
    assert.is(x.pageInfo(0).mapping, 'private');
    assert.is(y.pageInfo(0).mapping, 'private');
    assert.is(ksm.stats().pagesShared, 0);
  });

  test('bad domain input: one clear error, nothing changed', async () => {
    const ksm = await host(engine);
    const before = ksm.spaces().length;
    for (const domain of ['', 42, 'x'.repeat(256), null]) {
      throwsKsm(() => ksm.createSpace({ name: 'bad', pages: 1, domain: domain as string }), 'EINVAL', /space "bad": domain must be a non-empty string/);
    }
    assert.is(ksm.spaces().length, before, 'no space was made');
    const gone = ksm.createSpace({ name: 'gone', pages: 1, domain: 'd' });
    gone.close();
    throwsKsm(() => gone.domain, 'EINVAL', /domain on space "gone": the space has exited/);
    throwsKsm(() => gone.fork(), 'EINVAL', /fork on space "gone": the space has exited/);
    assert.equal([...ksm.domains()], [], 'the exited space left its domain');
  });

  test.run();
}
