/**
 * `ksm-wasm estimate --scenario` against what the real ksmd did on the same bytes: the built-in
 * scenarios are byte-identical to the kernel oracle's images (its documented recipe), and
 * tests/fixtures/oracle/ holds the oracle's step-mode runs of them (kernel 6.18), trimmed. Every
 * counter after every full scan, each guest's ksm_stat and settled_at_full_scan must match.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { estimateJson } from '../src/estimate/json.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import { runEstimate } from '../src/estimate/run.js';
import { openScenario } from '../src/estimate/scenarios.js';

interface Stored {
  scenario: string;
  knobs: Record<string, number>;
  max_scans: number;
  stable_scans: number;
  converged: boolean;
  settled_at_scan: number;
  scans: Array<{ counters: Record<string, number>; spaces: Array<Record<string, number>> }>;
}

const load = (name: string): Stored => JSON.parse(readFileSync(new URL(`./fixtures/oracle/${name}`, import.meta.url), 'utf8'));
const COUNTERS = ['full_scans', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'pages_scanned', 'pages_skipped',
  'stable_node_chains', 'stable_node_dups', 'ksm_zero_pages', 'general_profit'];

/** The contract's settled_at_full_scan for a stored run: null when it did not settle within its max scans. */
const settledOrNull = (stored: Stored): number | null => (stored.converged ? stored.settled_at_scan : null);

function differences(stored: Stored, json: ReturnType<typeof estimateJson>, spacesPerScan: Array<Array<Record<string, unknown>>>): string[] {
  const out: string[] = [];
  if (json.scans.length !== stored.scans.length) out.push(`full scans: kernel ${stored.scans.length}, engine ${json.scans.length}`);
  if (json.converged.settled_at_full_scan !== settledOrNull(stored)) out.push(`settled_at_full_scan: kernel ${settledOrNull(stored)}, engine ${json.converged.settled_at_full_scan}`);
  stored.scans.forEach((k, i) => {
    for (const key of COUNTERS) if (json.scans[i]?.[key] !== k.counters[key]) out.push(`scan ${i + 1} ${key}: kernel ${k.counters[key]}, engine ${json.scans[i]?.[key]}`);
    k.spaces.forEach((st, g) => {
      const mine = spacesPerScan[i]?.[g] as Record<string, number> | undefined;
      const pairs: Array<[string, string]> = [['ksm_rmap_items', 'ksmRmapItems'], ['ksm_merging_pages', 'ksmMergingPages'], ['ksm_zero_pages', 'ksmZeroPages'], ['ksm_process_profit', 'ksmProcessProfit']];
      for (const [file, camel] of pairs) if (mine?.[camel] !== st[file]) out.push(`scan ${i + 1} guest ${g} ${file}: kernel ${st[file]}, engine ${mine?.[camel]}`);
    });
  });
  return out;
}

async function engineRun(stored: Stored) {
  const k = stored.knobs;
  return runEstimate(openScenario(stored.scenario), {
    knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: k.pages_to_scan, maxPageSharing: k.max_page_sharing, useZeroPages: k.use_zero_pages as 0 | 1, smartScan: k.smart_scan as 0 | 1 },
    maxScans: stored.max_scans,
    stableScans: stored.stable_scans,
    maxMemory: 512 << 20,
  });
}

const test = suite('estimate --scenario against stored kernel runs');

for (const name of ['clones-step.json', 'clones-step-smart0.json', 'clones-step-32.json', 'mixed-step.json']) {
  test(name, async () => {
    const stored = load(name);
    const run = await engineRun(stored);
    const diffs = differences(stored, estimateJson(run), run.spacesPerScan as never);
    assert.is(diffs.length, 0, `differs from the kernel:\n  ${diffs.slice(0, 12).join('\n  ')}`);
  });
}

test('through the command line: ksm-wasm estimate --scenario clones --json', async () => {
  const stored = load('clones-step.json');
  const stdout = await new Promise<string>((resolve, reject) => execFile(process.execPath,
    ['--import', 'tsx', new URL('../src/cli.ts', import.meta.url).pathname, 'estimate', '--scenario', 'clones', '--pages-to-scan', '20000', '--json'],
    { cwd: new URL('..', import.meta.url).pathname }, (error, out, err) => (error ? reject(new Error(err)) : resolve(out))));
  const json = JSON.parse(stdout);
  assert.equal(json.scans.map((s: Record<string, number>) => COUNTERS.map((k) => s[k])), stored.scans.map((s) => COUNTERS.map((k) => s.counters[k])));
  assert.is(json.converged.settled_at_full_scan, settledOrNull(stored));
  assert.equal(json.spaces.map((s: Record<string, number>) => s.ksm_merging_pages), stored.scans[stored.scans.length - 1].spaces.map((s) => s.ksm_merging_pages));
  assert.equal(json.spaces.map((s: Record<string, string>) => s.name), Array.from({ length: 8 }, (_, g) => `clones/guest${g}`));
});

test.run();
