/**
 * `estimate --report FILE.html`: the spaces table shows byte figures as the terminal table does
 * (one formatter), and long paths do not wrap (the name without the directory the spaces share,
 * on one line, cut in the middle when it is still long, the full path as its title).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openInputs } from '../src/cli/inputs.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import { htmlReport, middleEllipsis, withoutCommonDirectory } from '../src/estimate/report.js';
import { runEstimate } from '../src/estimate/run.js';
import { formatTable } from '../src/estimate/table.js';
import { PageContent } from '../src/pagespec.js';

const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-report-'));
const deep = join(dir, 'a-rather-long-directory-name-for-guest-images', 'of-one-host-and-its-many-virtual-machines');
mkdirSync(deep, { recursive: true });
const maker = new PageContent(3);
// The worked example of ksm-model §7: three processes, 13 pages.
const images = [['r:X', 'r:X', 'r:Y', 'r:U1', 'Z'], ['r:X', 'r:Y', 'r:U2', 'Z'], ['r:X', 'r:W', 'r:W', 'Z']].map((pages, i) => {
  const path = join(deep, i === 2 ? 'p3-a-guest-image-whose-name-alone-is-long-enough-to-wrap.img' : `p${i + 1}.img`);
  writeFileSync(path, maker.image(pages));
  return path;
});

const test = suite('estimate --report');

test('ksm_process_profit and the other byte figures read as in the terminal table; names do not wrap', async () => {
  const run = await runEstimate(openInputs(images.map((path) => ({ kind: 'image' as const, path }))), {
    knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: 20000 }, maxScans: 10, stableScans: 3,
  });
  const html = htmlReport(run);
  const rows = [...html.matchAll(/<tr><td class="name">(.*?)<\/tr>/g)].map((m) => m[1]);
  assert.is(rows.length, 3);
  // The terminal table's spaces section: name, pages, rmap_items, merging, zero, process_profit.
  const terminal = formatTable(run).split('\n').filter((l) => l.startsWith(deep)).map((l) => l.slice(l.lastIndexOf('  ') + 2));
  assert.equal(terminal, ['15.7 KiB', '11.8 KiB', '15.8 KiB'], 'ksm_process_profit 16064, 12032 and 16128 bytes');
  rows.forEach((row, i) => {
    assert.ok(row.endsWith(`<td>${terminal[i]}</td>`), `the report's profit is the table's: ${row}`);
    assert.not.match(row, /<td>1[26]\d{3}<\/td>/, 'no raw byte count');
    const shown = i === 2 ? 'p3-a-guest-im…is-long-enough-to-wrap.img' : `p${i + 1}.img`;
    assert.ok(row.startsWith(`<span title="${images[i]}">${shown}</span>`), `the base name, cut in its middle if long, the full path as its title: ${row}`);
  });
  assert.ok(html.includes(`<p>Spaces in ${deep}/</p>`), 'the shared directory, said once');
  assert.match(html, /td\.name\{white-space:nowrap\}/, 'names stay on one line');
  assert.ok(html.includes('<th>ksm_<wbr>process_<wbr>profit</th>'), 'headers may break after an underscore');
});

test('long names are cut in the middle, to the length asked', () => {
  assert.is(middleEllipsis('short.img', 40), 'short.img');
  const cut = middleEllipsis('guest-with-a-very-long-file-name-that-would-wrap-0.img', 40);
  assert.is(cut, 'guest-with-a-…name-that-would-wrap-0.img');
  assert.is(cut.length, 40);
});

test('names without the directory they all share', () => {
  assert.equal(withoutCommonDirectory(['/a/b/x.img', '/a/b/c/y.img']), { dir: '/a/b/', short: ['x.img', 'c/y.img'] });
  assert.equal(withoutCommonDirectory(['clones/guest0', 'clones/guest1']), { dir: 'clones/', short: ['guest0', 'guest1'] });
  assert.equal(withoutCommonDirectory(['clones/guest0', 'mixed/guest0']), { dir: '', short: ['clones/guest0', 'mixed/guest0'] });
  assert.equal(withoutCommonDirectory(['pid 12', 'x.img']), { dir: '', short: ['pid 12', 'x.img'] });
  assert.equal(withoutCommonDirectory(['/x.img']), { dir: '/', short: ['x.img'] });
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
