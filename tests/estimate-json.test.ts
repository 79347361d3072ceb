/**
 * `ksm-wasm estimate --json`: the shape DESIGN.md promises, and numbers worked out by hand from
 * the kernel model (not read back from the engine): the worked example's counters (checked on
 * the real ksmd), the convergence rule, and simulated time from the batch and timer rules
 * (ksm-model §2.1; with a profile of no CPU cost, so that only the batches and ticks count).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PageContent } from '../src/pagespec.js';
import { openInputs } from '../src/cli/inputs.js';
import { estimateJson } from '../src/estimate/json.js';
import { ESTIMATE_KNOB_DEFAULTS, type EstimateKnobs } from '../src/estimate/knobs.js';
import { runEstimate } from '../src/estimate/run.js';
import { estimateOptions } from '../src/estimate/options.js';
import type { ClockProfile } from '../src/estimate/profile.js';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-json-'));
const maker = new PageContent(3);

function image(name: string, pages: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, maker.image(pages));
  return path;
}

// The worked example of ksm-model §7: three processes, 13 pages.
const P1 = image('p1.img', ['r:X', 'r:X', 'r:Y', 'r:U1', 'Z']);
const P2 = image('p2.img', ['r:X', 'r:Y', 'r:U2', 'Z']);
const P3 = image('p3.img', ['r:X', 'r:W', 'r:W', 'Z']);
const WORKED = [P1, P2, P3];

type Json = { page_size: number; mode: string; knobs: Record<string, number>; scans: Array<Record<string, number>>; converged: Record<string, number | null>; spaces: Array<Record<string, number | string>> };

function estimate(args: string[]): Promise<Json> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, 'estimate', '--json', ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`estimate failed: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/** The same run in this process (the code behind --json), for the cases that need many runs. */
async function inProcess(images: string[], knobs: Partial<EstimateKnobs>, { maxScans = 50, stableScans = 3, profile = undefined as ClockProfile | undefined } = {}): Promise<Json> {
  const run = await runEstimate(openInputs(images.map((path) => ({ kind: 'image' as const, path }))), {
    knobs: { ...ESTIMATE_KNOB_DEFAULTS, ...knobs }, maxScans, stableScans, maxMemory: 64 << 20, profile,
  });
  return estimateJson(run) as unknown as Json;
}

const SCAN_KEYS = ['full_scans', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'pages_scanned', 'pages_skipped',
  'stable_node_chains', 'stable_node_dups', 'ksm_zero_pages', 'general_profit', 'simulated_ms', 'ksmd_cpu_ms', 'wall_ms',
  'split_zero_pages']; // added to DESIGN's keys: memory freed by huge-page splits

/** A host whose ksmd costs no CPU and whose timers fire on time: only batches and ticks count. */
const NO_COST: ClockProfile = {
  format: 'ksm-wasm-clock-profile', version: 2, hz: 250, extraTicks: 0, wakeMs: 0,
  cpuUs: { batch: 0, firstSight: 0, cheapVisit: 0, otherPage: 0, stableHit: 0, pairMerge: 0, treeStep: 0, batchTreeStep: 0 }, measured: {},
};
const NO_COST_FILE = join(dir, 'no-cost-profile.json');
writeFileSync(NO_COST_FILE, JSON.stringify(NO_COST));

const test = suite('estimate --json');

test('the contract: exactly the keys of DESIGN.md, numbers everywhere', async () => {
  const j = await estimate([...WORKED, '--pages-to-scan', '20000']);
  assert.equal(Object.keys(j), ['page_size', 'mode', 'shards', 'startup_ms', 'knobs', 'scans', 'converged', 'spaces']);
  assert.is(j.page_size, 4096);
  assert.is(j.mode, 'pages', 'auto takes the page engine for a few pages');
  assert.equal(j.knobs, { pages_to_scan: 20000, sleep_millisecs: 20, max_page_sharing: 256, use_zero_pages: 0, smart_scan: 1, merge_across_nodes: 1 });
  for (const scan of j.scans) {
    assert.equal(Object.keys(scan), SCAN_KEYS);
    for (const v of Object.values(scan)) assert.type(v, 'number');
  }
  assert.equal(Object.keys(j.converged), [...SCAN_KEYS, 'settled_at_full_scan']);
  const { settled_at_full_scan: _, ...last } = j.converged;
  assert.equal(last, j.scans[j.scans.length - 1], 'converged holds the last scan');
  assert.equal(j.spaces.map((s) => s.name), WORKED);
  for (const s of j.spaces) assert.equal(Object.keys(s), ['name', 'ksm_rmap_items', 'ksm_merging_pages', 'ksm_zero_pages', 'ksm_process_profit']);
  j.scans.forEach((s, i) => {
    assert.is(s.full_scans, i + 1);
    if (i > 0) assert.ok(s.wall_ms >= j.scans[i - 1].wall_ms, 'wall_ms is cumulative');
  });
});

test('the worked example (ksm-model §7, checked on the real ksmd): counters and ksm_stat', async () => {
  const j = await estimate([...WORKED, '--pages-to-scan', '20000']);
  const row = (s: Record<string, number>) => [s.full_scans, s.pages_scanned, s.pages_shared, s.pages_sharing, s.pages_unshared, s.pages_volatile, s.pages_skipped, s.stable_node_chains, s.stable_node_dups, s.ksm_zero_pages, s.general_profit];
  assert.equal(row(j.scans[0]), [1, 13, 0, 0, 0, 13, 0, 0, 0, 0, -832]);
  assert.equal(row(j.scans[1]), [2, 26, 4, 7, 2, 0, 0, 0, 0, 0, 27840]);
  assert.equal(row(j.scans[4]), [5, 63, 4, 7, 0, 2, 2, 0, 0, 0, 27840], 'scan 5 is a smart_scan skip round');
  assert.equal(j.spaces.map((s) => [s.ksm_rmap_items, s.ksm_merging_pages, s.ksm_zero_pages, s.ksm_process_profit]), [[5, 4, 0, 16064], [4, 3, 0, 12032], [4, 4, 0, 16128]]);
});

test('convergence: settled at scan 2, stops K scans later; --stable-scans and --max-scans', async () => {
  const [k3, k1, max2, k7, k10] = await Promise.all([
    inProcess(WORKED, { pagesToScan: 20000 }),
    inProcess(WORKED, { pagesToScan: 20000 }, { stableScans: 1 }),
    inProcess(WORKED, { pagesToScan: 20000 }, { maxScans: 2 }),
    inProcess(WORKED, { pagesToScan: 20000 }, { stableScans: 7, maxScans: 9 }),
    inProcess(WORKED, { pagesToScan: 20000 }, { stableScans: 10, maxScans: 9 }),
  ]);
  assert.equal([k3.scans.length, k3.converged.settled_at_full_scan], [5, 2], 'K=3: unchanged over scans 3, 4, 5');
  assert.equal([k1.scans.length, k1.converged.settled_at_full_scan], [3, 2]);
  assert.equal([max2.scans.length, max2.converged.settled_at_full_scan], [2, null], 'not settled within --max-scans 2: null, as the contract says');
  assert.equal([k7.scans.length, k7.converged.settled_at_full_scan], [9, 2], 'pages_unshared swings with smart_scan, the merge state does not');
  assert.equal(k7.scans.map((s) => s.pages_unshared), [0, 2, 2, 2, 0, 2, 0, 0, 2]);
  assert.equal([k10.scans.length, k10.converged.settled_at_full_scan], [9, null], 'K=10 cannot be seen within 9 scans: not settled, null');
});

test('use_zero_pages 1: the zero-page items go one scan later, so it settles at scan 3', async () => {
  const j = await inProcess(WORKED, { pagesToScan: 20000, useZeroPages: 1 });
  assert.is(j.converged.settled_at_full_scan, 3);
  assert.is(j.scans.length, 6);
  assert.equal([j.scans[1].ksm_zero_pages, j.scans[1].pages_volatile, j.scans[2].pages_volatile, j.scans[2].general_profit], [3, 3, 0, 32128]);
});

test('simulated time: from run=1 to the end of the scan\'s last batch; sleeps in whole 4 ms ticks, a batch ends at the end of a scan', async () => {
  // 13 pages per scan; smart_scan 0 so every scan processes all 13. run=1 is written half a tick
  // into a tick, so the first sleep ends half a tick early; every later one lasts its whole ticks.
  const sim = async (knobs: Partial<EstimateKnobs>) => (await inProcess(WORKED, { smartScan: 0, ...knobs }, { maxScans: 4, stableScans: 10, profile: NO_COST })).scans.map((s) => s.simulated_ms);
  const [exact, over, small, roundUp, zero] = await Promise.all([
    sim({ pagesToScan: 13 }),                       // 13 pages, then a batch of 0 that ends the scan: 2 batches, 1 sleep between
    sim({ pagesToScan: 14 }),                       // one batch per scan
    sim({ pagesToScan: 5 }),                        // 5 + 5 + 3: 3 batches
    sim({ pagesToScan: 13, sleepMillisecs: 10 }),   // 10 ms sleeps as 12 (3 ticks at HZ=250)
    sim({ pagesToScan: 13, sleepMillisecs: 0 }),
  ]);
  assert.equal(exact, [18, 58, 98, 138]);
  assert.equal(over, [0, 18, 38, 58]);
  assert.equal(small, [38, 98, 158, 218]);
  assert.equal(roundUp, [10, 34, 58, 82]);
  assert.equal(zero, [0, 0, 0, 0]);
});

test('simulated time: the timer wheel\'s extra tick, the wake-up latency, and CPU that runs past the tick it started in', async () => {
  const at = (profile: ClockProfile, pagesToScan = 14) => inProcess(WORKED, { smartScan: 0, pagesToScan }, { maxScans: 3, stableScans: 10, profile })
    .then((j) => j.scans.map((s) => s.simulated_ms));
  assert.equal(await at({ ...NO_COST, extraTicks: 1 }), [0, 22, 46], 'a 20 ms sleep lasts 6 ticks, 24 ms');
  // Each wake-up half a ms late on average; it does not add up, as each sleep counts from the tick
  // its batch ended in, unless the wake-up takes longer than a tick (e^-8 of the time: 0.001 ms).
  assert.equal(await at({ ...NO_COST, extraTicks: 1, wakeMs: 0.5 }), [0, 22.5, 46.501]);
  // 1 ms of CPU per batch ends within the tick the batch began in: it costs no wall time after the first.
  assert.equal(await at({ ...NO_COST, cpuUs: { ...NO_COST.cpuUs, batch: 1000 } }), [1, 19, 39]);
  // 5 ms per batch runs into the next tick: the next sleep counts from there.
  assert.equal(await at({ ...NO_COST, cpuUs: { ...NO_COST.cpuUs, batch: 5000 } }), [5, 27, 51]);
});

test('ksmd_cpu_ms: cumulative, the profile\'s cost of each kind of work, counted from the counters', async () => {
  const one = (kind: keyof ClockProfile['cpuUs']) => inProcess(WORKED, { smartScan: 0, pagesToScan: 14 }, { maxScans: 3, stableScans: 10, profile: { ...NO_COST, cpuUs: { ...NO_COST.cpuUs, [kind]: 1000 } } })
    .then((j) => j.scans.map((s) => s.ksmd_cpu_ms));
  assert.equal(await one('batch'), [1, 2, 3], 'one batch per scan');
  assert.equal(await one('firstSight'), [13, 13, 13], '13 rmap items, all made in scan 1');
  // The worked example merges X (4 pages), Y (2), W (2) and Z (3) in scan 2: shared 4 + sharing 7,
  // four two-page merges (one per KSM page made) and three pages merged into a KSM page already there.
  assert.equal(await one('pairMerge'), [0, 4, 4]);
  assert.equal(await one('stableHit'), [0, 3, 3]);
  // Scan 3 visits the 11 merged pages cheaply; U1 and U2 are the other pages (and in scan 2 the 10
  // that were not stable-tree hits).
  assert.equal(await one('cheapVisit'), [0, 0, 11]);
  assert.equal(await one('otherPage'), [0, 10, 12]);
});

test('simulated time follows smart_scan: a skip round processes fewer pages, so fewer batches', async () => {
  // Scan 5 skips U1 and U2: 11 pages processed, with pages_to_scan 13 that is one batch, not two.
  const j = await inProcess(WORKED, { pagesToScan: 13 }, { profile: NO_COST });
  assert.equal(j.scans.map((s) => s.simulated_ms), [18, 58, 98, 138, 158]);
});

test('--advisor scan-time: pages_to_scan starts at advisor_min_pages_to_scan (500)', async () => {
  const j = await estimate([...WORKED, '--advisor', 'scan-time', '--profile', NO_COST_FILE]);
  assert.is(j.knobs.pages_to_scan, 500);
  assert.equal(j.scans.slice(0, 2).map((s) => s.simulated_ms), [0, 18], '13 pages: one batch per scan');
  assert.is(j.converged.settled_at_full_scan, 2);
});

test('inputs are scanned in the order given, whatever mix of images, scenarios and PIDs', () => {
  const argv = ['b.img', '--scenario', 'clones', '--json', 'a.img', '--pid=12,13', '--pages-to-scan', '7', 'c.img'];
  const options = estimateOptions({ _: ['b.img', 'a.img', 'c.img'], scenario: 'clones', pid: '12,13', json: true, 'pages-to-scan': '7' }, argv);
  assert.equal(options.inputs, [
    { kind: 'image', path: 'b.img' }, { kind: 'scenario', name: 'clones' }, { kind: 'image', path: 'a.img' },
    { kind: 'pid', text: '12' }, { kind: 'pid', text: '13' }, { kind: 'image', path: 'c.img' },
  ]);
  assert.is(options.knobs.pagesToScan, 7);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
