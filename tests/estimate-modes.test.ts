/**
 * `ksm-wasm estimate --mode` and `--scenario NAME --size SIZE` through the command line: both modes
 * give the same counters and say which they ran, auto's choice, inputs over 4 GiB in fingerprint
 * mode, scaled scenarios made the same way every time, and bad values refused in one line.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, refused, runNode } from './helpers/run-cli.js';
import { openScaledScenario, parseSize } from '../src/estimate/scaled.js';
import { checkMachineMemory } from '../src/cli/machine-memory.js';
import { totalmem } from 'node:os';
import { hugePagesNote, resolveMode } from '../src/estimate/mode.js';
import { engineCapacity } from '../src/cli/memory.js';

const test = suite('estimate --mode, --size');

const estimate = async (args: string[], timeout?: number) => {
  const r = await runNode([CLI, 'estimate', '--json', '--no-verdict', ...args], timeout);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};
/** The JSON without its host-time figures. */
const counters = (j: { scans: Array<Record<string, number>>; spaces: unknown }) => ({
  scans: j.scans.map(({ wall_ms: _w, ...rest }) => rest),
  spaces: j.spaces,
});

test('--mode pages and --mode fingerprints: the same counters and ksm_stat, each mode named', async () => {
  const args = ['--scenario', 'mixed', '--size', '24M', '--pages-to-scan', '2000'];
  const [pages, prints] = await Promise.all([estimate([...args, '--mode', 'pages']), estimate([...args, '--mode', 'fingerprints'])]);
  assert.is(pages.mode, 'pages');
  assert.is(prints.mode, 'fingerprints');
  assert.ok(pages.converged.pages_sharing > 0, 'the scenario merges');
  assert.equal(counters(prints), counters(pages));
});

test('auto: pages for a few pages, fingerprints from 2048 pages on', async () => {
  assert.is((await estimate(['--scenario', 'clones', '--size', '4M', '--max-scans', '2'])).mode, 'pages');
  assert.is((await estimate(['--scenario', 'clones', '--size', '16M', '--max-scans', '2'])).mode, 'fingerprints');
});

test('auto with transparent huge pages: the page engine while it holds them; past it, a note that the split scans may differ', () => {
  const capacity = engineCapacity('wasm');
  assert.is(resolveMode('auto', 65536, undefined, true), 'pages', 'ksmd\'s order where the page engine holds the pages');
  assert.is(resolveMode('auto', 65536, undefined, false), 'fingerprints');
  assert.is(resolveMode('auto', capacity + 1, undefined, true), 'fingerprints', 'past the page engine, the only engine that holds them');
  assert.is(hugePagesNote(0, 'the fingerprint engine'), undefined, 'no huge pages, nothing to say');
  const note = hugePagesNote(62, 'the fingerprint engine')!;
  assert.match(note, /^note: 124\.0 MiB of the inputs are transparent huge pages: in the full scans where they split, the counters can differ from ksmd's/);
  assert.match(note, /--mode pages keeps ksmd's order, for inputs up to \d+\.\d GiB of pages\.$/);
  assert.match(hugePagesNote(62, 'fingerprint files')!, /fingerprint files keep no bytes: estimate the inputs themselves with --mode pages to keep ksmd's order\.$/);
});

test('page engines that would hold more page bytes than this machine has memory are refused before anything is read', async () => {
  const size = `${Math.ceil(totalmem() / 2 ** 30) + 1}G`;
  const r = await runNode([CLI, 'estimate', '--scenario', 'clones', '--size', size, '--mode', 'pages', '--no-verdict']);
  refused(r, /the page engine holds every page's bytes: .* of pages, more than this machine's .* of memory; --mode fingerprints holds them/);
  checkMachineMemory(262144, 'wasm', 2 ** 30); // 1 GiB of pages in 1 GiB: fits
  checkMachineMemory(10 ** 9, 'fingerprints', 2 ** 30); // no page bytes held
  assert.throws(() => checkMachineMemory(262145, 'wasm', 2 ** 30), /1\.0 GiB of pages, more than this machine's 1\.0 GiB/);
});

test('inputs over 4 GiB: refused by one page engine, estimated in fingerprint mode (auto takes it)', async () => {
  // (With --threads 2 or more, each shard's page engine holds only its share of the pages.)
  refused(await runNode([CLI, 'estimate', '--scenario', 'clones', '--size', '4100M', '--mode', 'pages', '--threads', '1']), /4\.0 GiB of pages.*--mode fingerprints/);
  const j = await estimate(['--scenario', 'clones', '--size', '4100M', '--max-scans', '1', '--pages-to-scan', '2000000'], 240_000);
  assert.is(j.mode, 'fingerprints');
  const pages = Math.floor(4100 * 2 ** 20 / 4096 / 8) * 8;
  assert.is(j.scans[0].pages_scanned, pages, 'every page scanned once');
  assert.is(j.spaces.reduce((n: number, s: { ksm_rmap_items: number }) => n + s.ksm_rmap_items, 0), pages);
});

test('--size: the same bytes every time, split evenly over the guests, clones merging as its recipe says', () => {
  const digest = (size: number) => openScaledScenario('clones', size).map((s) => {
    let h = 0;
    s.read((chunk) => { for (let i = 0; i < chunk.length; i += 509) h = (Math.imul(h, 31) + chunk[i]) | 0; });
    return [s.name, s.pages, h];
  });
  assert.equal(digest(8 << 20), digest(8 << 20));
  assert.equal(digest(8 << 20).map((g) => g[1]), Array(8).fill(256));
  // Base page i is the same in every guest; a guest's dirty pages are its own.
  const firsts = openScaledScenario('clones', 1 << 20).map((s) => { let first = new Uint8Array(0); s.read((chunk) => { first = chunk.slice(0, 4096 * 64); }); return first; });
  let same = 0;
  for (let p = 0; p < 64; p++) if (firsts.every((f) => Buffer.compare(f.subarray(p * 4096, (p + 1) * 4096), firsts[0].subarray(p * 4096, (p + 1) * 4096)) === 0)) same++;
  assert.ok(same > 64 * 0.2 && same < 64, `pages equal in all 8 guests: ${same} of 64 (about 0.75^8 of them would be, and more where zero pages fall together)`);
});

test('parseSize: units, and what is not a size', () => {
  assert.is(parseSize('64G'), 64 * 2 ** 30);
  assert.is(parseSize('512MiB'), 512 * 2 ** 20);
  assert.is(parseSize('1.5T'), 1.5 * 2 ** 40);
  assert.is(parseSize('4096'), 4096);
  for (const bad of ['garbage', '', '-1G', '0', '12Q', '1e9']) assert.throws(() => parseSize(bad), /not a size/, bad);
});

test('bad values: one line each, exit 2', async () => {
  refused(await runNode([CLI, 'estimate', '--scenario', 'clones', '--mode', 'bogus']), /--mode bogus: must be pages, fingerprints or auto/);
  refused(await runNode([CLI, 'estimate', '--scenario', 'clones', '--size', 'garbage']), /--size garbage: not a size/);
  refused(await runNode([CLI, 'estimate', '--scenario', 'nosuch', '--size', '1G']), /--scenario nosuch: no such scenario/);
  refused(await runNode([CLI, 'estimate', '--scenario', 'clones', '--size', '4K']), /--size .*too small/);
  refused(await runNode([CLI, 'estimate', 'README.md', '--size', '1G']), /--size scales a built-in scenario/);
});

test('an input larger than one address space (2 GiB) is refused in one line, before it is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-big-'));
  try {
    const big = join(dir, 'big.img');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 3 * 2 ** 30); // sparse: nothing written
    closeSync(fd);
    for (const threads of ['1', '2']) refused(await runNode([CLI, 'estimate', big, '--threads', threads]), /big\.img: 3\.0 GiB of address space, more than one space of the engine holds \(2\.0 GiB\)/);
    refused(await runNode([CLI, 'fingerprint', big, '-o', join(dir, 'big.kfp')]), /more than one space of the engine holds/);
    refused(await runNode([CLI, 'estimate', '--scenario', 'mixed', '--size', '20G']), /the 6 guests of mixed would hold \d+ pages each, more than an address space holds/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clones scaled past 16 GiB gets more guests of 2 GiB at most', () => {
  const guests = openScaledScenario('clones', 64 * 2 ** 30);
  assert.is(guests.length, 32);
  assert.ok(guests.every((g) => g.pages === 524_288));
});

test.run();
