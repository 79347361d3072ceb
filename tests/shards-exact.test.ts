/**
 * Content shards never change a counter: for every conformance workload and every oracle fixture,
 * 1, 2, 3 and 7 shards, of the page engine and of the fingerprint engine, give the counters of one engine over all the pages, full scan by full scan
 * (every sysfs counter, settled_at_full_scan, the time figures computed from them, and every
 * space's ksm_stat). The shards run in this thread here (the same engine code as on the workers;
 * estimate-shards-cli.test.ts runs them on worker threads and in separate processes).
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { estimateJson } from '../src/estimate/json.js';
import { ESTIMATE_KNOB_DEFAULTS, type EstimateKnobs } from '../src/estimate/knobs.js';
import { runEstimate, type EstimateRun } from '../src/estimate/run.js';
import { openScenario, specSource } from '../src/estimate/scenarios.js';
import type { ImageSource } from '../src/estimate/source.js';
import { runShardedEstimate } from '../src/shards/coordinator.js';
import { inProcessShard } from '../src/shards/host.js';
import { ShardEngine } from '../src/shards/engine.js';
import { loadProfile } from '../src/estimate/profile.js';
import { fingerprintPages } from '../src/fingerprint/hash.js';
import { WORKLOADS } from './conformance/workloads.js';

const SHARDS = [1, 2, 3, 7];
/** The page engine's shards: fewer counts (the suite's time), the same code. */
const PAGE_ENGINE_SHARDS = [2, 7];

interface Case { name: string; sources: () => ImageSource[]; knobs: EstimateKnobs; maxScans: number; stableScans: number }

const conformance: Case[] = WORKLOADS.map((w) => ({
  name: w.name,
  sources: () => w.guests.map((pages, g) => specSource({ name: `guest${g}`, pages })),
  knobs: {
    ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: w.knobs.pages_to_scan!, maxPageSharing: w.knobs.max_page_sharing!,
    useZeroPages: w.knobs.use_zero_pages as 0 | 1, smartScan: w.knobs.smart_scan as 0 | 1, mergeAcrossNodes: w.knobs.merge_across_nodes as 0 | 1,
    stableNodeChainsPruneMillisecs: w.knobs.stable_node_chains_prune_millisecs!,
  },
  maxScans: w.maxScans,
  stableScans: w.stableScans,
}));

const oracle: Case[] = ['clones-step.json', 'clones-step-smart0.json', 'clones-step-32.json', 'mixed-step.json'].map((file) => {
  const stored = JSON.parse(readFileSync(new URL(`./fixtures/oracle/${file}`, import.meta.url), 'utf8'));
  const k = stored.knobs;
  return {
    name: `oracle fixture ${file}`,
    sources: () => openScenario(stored.scenario),
    knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: k.pages_to_scan, maxPageSharing: k.max_page_sharing, useZeroPages: k.use_zero_pages, smartScan: k.smart_scan },
    maxScans: stored.max_scans,
    stableScans: stored.stable_scans,
  };
});

/** Everything of the JSON but what a run's own speed decides. */
function counters(run: EstimateRun) {
  const j = estimateJson(run);
  const strip = ({ wall_ms: _, ...rest }: Record<string, number | null>) => rest;
  return { scans: j.scans.map(strip), converged: strip(j.converged), spaces: run.spacesPerScan };
}

const test = suite('content shards: the counters of one engine, for any number of shards');

for (const c of [...conformance, ...oracle]) {
  test(c.name, async () => {
    const settings = { knobs: c.knobs, maxScans: c.maxScans, stableScans: c.stableScans };
    const one = counters(await runEstimate(c.sources(), settings));
    // Shards of either engine: the page engine's one-engine counters (fingerprint mode: docs/fingerprints.md).
    for (const engine of ['wasm', 'fingerprints'] as const) {
      for (const shards of engine === 'fingerprints' ? SHARDS : PAGE_ENGINE_SHARDS) {
        const run = await runShardedEstimate(c.sources(), { ...settings, engine, shards, host: inProcessShard });
        assert.is(run.shards, shards);
        assert.is(run.mode, engine === 'wasm' ? 'pages' : 'fingerprints');
        assert.equal(counters(run), one, `${engine}, ${shards} shards`);
      }
    }
  });
}

test('a shard can be empty (more shards than contents) and still steps with the others', async () => {
  const sources = [specSource({ name: 'a', pages: ['r:x', 'r:x', 'Z'] }), specSource({ name: 'b', pages: ['r:x'] })];
  const settings = { knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: 2 }, maxScans: 6, stableScans: 2 };
  const one = counters(await runEstimate(sources, settings));
  assert.equal(counters(await runShardedEstimate(sources, { ...settings, shards: 16, host: inProcessShard })), one);
  assert.is(one.converged.pages_sharing, 2);
});

test('a shard places its pages one after the other in a space of their number, and refuses pages out of address order', async () => {
  const shard = await ShardEngine.create({ knobs: ESTIMATE_KNOB_DEFAULTS, spaces: [{ name: 'a', spacePages: 100000 }, { name: 'b', spacePages: 10 }], maxMemory: 64 << 20, profile: loadProfile(undefined), engine: 'fingerprints' });
  try {
    shard.createSpaces();
    const records = (n: number) => fingerprintPages(new Uint8Array(n * 4096).map((_, i) => (i * 7 + n) & 0xff));
    shard.writeRecords(0, Uint32Array.of(10, 70000), records(2));
    shard.writeRecords(0, Uint32Array.of(99999), records(1));
    assert.equal(shard.spaceSizes(), [3, 1], 'space a holds its 3 pages, b (none here) one absent page');
    assert.throws(() => shard.writeRecords(0, Uint32Array.of(5), records(1)), /pages of space 0 out of address order \(5 after 99999\)/);
    assert.equal(shard.spaceSizes(), [3, 1], 'nothing placed');
  } finally {
    shard.close();
  }
});

test.run();
