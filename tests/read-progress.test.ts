/**
 * Reading progress (src/estimate/progress.ts withReadProgress): large inputs get lines while they
 * are read, whichever way they stream (pages, plans, file runs); small ones none; the wrapped sources give the
 * same pages, and a fork still points at its parent (wrapped).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withReadProgress } from '../src/estimate/progress.js';
import { openScaledScenario } from '../src/estimate/scaled.js';
import { PAGE_SIZE, type FileRun, type ImageSource } from '../src/estimate/source.js';

const test = suite('reading progress');

/** A source of `pages` zero pages whose reads take `msPerChunk` each (a slow disk). */
function slow(name: string, pages: number, msPerChunk: number, forkOf?: ImageSource): ImageSource {
  return {
    name, pages, forkOf,
    read(sink) {
      const chunk = new Uint8Array(1024 * PAGE_SIZE);
      for (let first = 0; first < pages; first += 1024) {
        const until = performance.now() + msPerChunk;
        while (performance.now() < until) { /* the disk */ }
        sink(chunk, first);
      }
    },
  };
}

test('a large input read slowly gets lines of how much is read; a small one none', () => {
  const lines: string[] = [];
  const parent = slow('a', 65536, 20);
  const [a, b] = withReadProgress([parent, slow('b', 1024, 0, parent)], (t) => lines.push(t), 100);
  a.read(() => undefined);
  b.read(() => undefined);
  assert.ok(lines.length >= 2, `lines: ${lines.join('')}`);
  assert.match(lines[0], /^ksm-wasm estimate: read \d+ of 260 MiB \(\d+ s\)\n$/);
  assert.is(b.forkOf, a, 'the fork points at its parent\'s wrapper');
  const quiet: string[] = [];
  withReadProgress([slow('c', 1024, 20)], (t) => quiet.push(t), 1)[0].read(() => undefined);
  assert.equal(quiet, []);
});

test('wrapped plans and pages are the source\'s own', () => {
  const [source] = openScaledScenario('clones', 8 * 70_000 * PAGE_SIZE);
  const [wrapped] = withReadProgress([source], () => undefined);
  assert.is(wrapped.pages, source.pages);
  const plans = (s: ImageSource) => { const out: number[] = []; s.readPlans!((p, page) => out.push(page, p.length, p[0], p[p.length - 1])); return out; };
  assert.equal(plans(wrapped), plans(source));
});

test('a raw image\'s file runs are counted as they are handed out, and are the image\'s own', () => {
  const runs = Array.from({ length: 70 }, (_, i) => ({ path: 'big.img', position: i * (4 << 20), bytes: i === 69 ? 4096 : 4 << 20 }));
  const source: ImageSource = {
    name: 'big.img', pages: 69 * 1024 + 1,
    read() { throw new Error('not read: the hashing threads read the runs'); },
    readFileRuns(sink) {
      for (const [i, run] of runs.entries()) {
        const until = performance.now() + 5;
        while (performance.now() < until) { /* the time a chunk takes */ }
        sink(run, i * 1024);
      }
    },
  };
  const lines: string[] = [];
  const [wrapped] = withReadProgress([source], (t) => lines.push(t), 50);
  const seen: Array<[FileRun, number]> = [];
  wrapped.readFileRuns!((run, page) => seen.push([run, page]));
  assert.equal(seen, runs.map((run, i) => [run, i * 1024]));
  assert.ok(lines.length >= 2, `lines: ${lines.join('')}`);
  assert.match(lines[0], /^ksm-wasm estimate: read \d+ of 276 MiB \(\d+ s\)\n$/);
});

test.run();
