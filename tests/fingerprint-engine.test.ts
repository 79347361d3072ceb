/**
 * The fingerprint engine against the page engine on frozen inputs: every workload of the kernel
 * conformance test and every stored oracle run, through the estimate's own code, gives the same
 * counters after every full scan, and the same ksm_stat of every space, in both engines.
 */
import { suite } from 'uvu';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { ESTIMATE_KNOB_DEFAULTS, type EstimateKnobs } from '../src/estimate/knobs.js';
import { runEstimate, type EstimateRun } from '../src/estimate/run.js';
import { openScenario, specSource } from '../src/estimate/scenarios.js';
import type { ImageSource } from '../src/estimate/source.js';
import { WORKLOADS } from './conformance/workloads.js';
import type { EngineName } from '../src/backend.js';

const test = suite('fingerprint engine = page engine, scan by scan');

interface RunSpec { sources: () => ImageSource[]; knobs: EstimateKnobs; maxScans: number; stableScans: number }

const run = (spec: RunSpec, engine: EngineName): Promise<EstimateRun> => runEstimate(spec.sources(), {
  engine, knobs: spec.knobs, maxScans: spec.maxScans, stableScans: spec.stableScans, maxMemory: 256 << 20,
});

/** Every difference between two runs: counters after each scan (time figures aside), each space's ksm_stat. */
export function runDifferences(pages: EstimateRun, prints: EstimateRun): string[] {
  const out: string[] = [];
  if (pages.scans.length !== prints.scans.length) out.push(`full scans: pages ${pages.scans.length}, fingerprints ${prints.scans.length}`);
  if (pages.converged !== prints.converged || pages.settledAt !== prints.settledAt) out.push(`settled: pages ${pages.settledAt}, fingerprints ${prints.settledAt}`);
  pages.scans.forEach((scan, i) => {
    const other = prints.scans[i] as unknown as Record<string, unknown> | undefined;
    for (const [key, value] of Object.entries(scan)) {
      if (typeof value !== 'number' || /ms$|Ms$/.test(key)) continue; // times are the host's, not the algorithm's
      if (other?.[key] !== value) out.push(`scan ${i + 1} ${key}: pages ${value}, fingerprints ${other?.[key]}`);
    }
    if (JSON.stringify(scan.work) !== JSON.stringify(prints.scans[i]?.work)) out.push(`scan ${i + 1} work differs`);
    if (JSON.stringify(pages.spacesPerScan[i]) !== JSON.stringify(prints.spacesPerScan[i])) out.push(`scan ${i + 1} ksm_stat differs`);
  });
  return out;
}

async function assertSame(spec: RunSpec): Promise<void> {
  const pages = await run(spec, 'wasm');
  const prints = await run(spec, 'fingerprints');
  const diffs = runDifferences(pages, prints);
  assert.is(diffs.length, 0, `the fingerprint engine differs:\n  ${diffs.slice(0, 40).join('\n  ')}`);
  assert.ok(pages.scans.length > 0 && pages.scans[pages.scans.length - 1].pagesScanned > 0, 'the run scanned pages');
}

for (const w of WORKLOADS) {
  test(`conformance workload: ${w.name}`, async () => {
    const k = w.knobs;
    await assertSame({
      sources: () => w.guests.map((pages, g) => specSource({ name: `guest${g}`, pages })),
      knobs: {
        ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: k.pages_to_scan!, maxPageSharing: k.max_page_sharing!, useZeroPages: k.use_zero_pages as 0 | 1,
        smartScan: k.smart_scan as 0 | 1, stableNodeChainsPruneMillisecs: k.stable_node_chains_prune_millisecs!, sleepMillisecs: 20,
      },
      maxScans: w.maxScans,
      stableScans: w.stableScans,
    });
  });
}

const oracleDir = new URL('./fixtures/oracle/', import.meta.url);
for (const name of readdirSync(oracleDir).filter((f) => f.endsWith('.json'))) {
  test(`oracle fixture: ${name}`, async () => {
    const stored = JSON.parse(readFileSync(new URL(name, oracleDir), 'utf8'));
    const k = stored.knobs;
    await assertSame({
      sources: () => openScenario(stored.scenario),
      knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: k.pages_to_scan, maxPageSharing: k.max_page_sharing, useZeroPages: k.use_zero_pages, smartScan: k.smart_scan },
      maxScans: stored.max_scans,
      stableScans: stored.stable_scans,
    });
  });
}

/**
 * Transparent huge pages are the one frozen input where the tree's order shows: a merge attempt
 * splits a huge page and maps its zero-filled subpages to the zero page, so pages already in this
 * pass's unstable tree are gone from under it, and a descent that meets one gives up (as the
 * kernel's does). Which descents meet one depends on the order (memcmp's or the fingerprints'):
 * in the scans where huge pages split, pages may stay volatile in one engine and enter the unstable
 * tree in the other, and merges may come a full scan later. Every other scan and the settled state
 * are the same. (auto takes the page engine for inputs with huge pages: mode.ts.)
 */
test('transparent huge pages: the same counters outside the scans of the splits, and the same settled state', async () => {
  // Two spaces of two huge pages each: duplicates across them, zero subpages, unique pages.
  const image = (g: number) => Array.from({ length: 1024 }, (_, i) => pageOf(i % 7 === 0 ? 0 : i % 3 === 0 ? 1 + (i % CLASSES) : CLASSES + 1, g * 1024 + i));
  const images = [image(0), image(1)];
  const spec: RunSpec = {
    sources: () => images.map((pages, g) => ({
      name: `huge${g}`, pages: pages.length, hugeSpans: [0, 512],
      read: (sink: (chunk: Uint8Array) => void) => { for (const page of pages) sink(page); },
    })),
    knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: 300 },
    maxScans: 6,
    stableScans: 2,
  };
  const pages = await run(spec, 'wasm');
  const prints = await run(spec, 'fingerprints');
  // The scans in which huge pages split (in either engine) may differ; no other scan may. The work
  // tallies (merge attempts, compares) follow the merges, so they differ wherever merges moved.
  const splitScans = new Set<number>();
  for (const r of [pages, prints]) r.scans.forEach((scan, i) => { if (scan.splitZeroPages > (r.scans[i - 1]?.splitZeroPages ?? 0)) splitScans.add(i + 1); });
  assert.ok(splitScans.size > 0 && splitScans.size < pages.scans.length, `huge pages split in some scans only (${[...splitScans]})`);
  const diffs = runDifferences(pages, prints).filter((d) => !/work differs/.test(d) && !splitScans.has(Number(/^scan (\d+)/.exec(d)?.[1])));
  assert.is(diffs.length, 0, `differs outside the scans of the splits (${[...splitScans]}):\n  ${diffs.slice(0, 12).join('\n  ')}`);
  const last = (r: EstimateRun) => r.scans[r.scans.length - 1];
  assert.is(last(prints).pagesUnshared, last(pages).pagesUnshared, 'settled: the same unshared pages');
  assert.is(last(prints).pagesVolatile, last(pages).pagesVolatile, 'settled: the same volatile pages');
  assert.ok(last(pages).splitZeroPages > 0 && last(pages).pagesSharing > 0, 'huge pages were split and pages merged');
});

// ---- random frozen workloads --------------------------------------------------------------------

/** A page by its class: 0 zero, 1..CLASSES a shared content, above: a page of its own. */
const CLASSES = 6;
function pageOf(kind: number, own: number): Uint8Array {
  const page = new Uint8Array(4096);
  if (kind === 0) return page;
  const view = new DataView(page.buffer);
  if (kind <= CLASSES) { page.fill(kind * 37); view.setUint32(4092, kind, true); } // classes differ only at the end too
  else view.setUint32(100, own + 1, true);
  return page;
}

const guestArb = fc.array(fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 5, arbitrary: fc.integer({ min: 1, max: CLASSES }) }, { weight: 3, arbitrary: fc.constant(CLASSES + 1) }), { minLength: 1, maxLength: 60 });
const workloadArb = fc.record({
  guests: fc.array(guestArb, { minLength: 1, maxLength: 4 }),
  pagesToScan: fc.integer({ min: 1, max: 80 }),
  maxPageSharing: fc.integer({ min: 2, max: 5 }),
  smartScan: fc.constantFrom(0 as const, 1 as const),
  useZeroPages: fc.constantFrom(0 as const, 1 as const),
  prune: fc.constantFrom(0, 5, 2000, 600_000),
});

test('random frozen workloads (classes, zeros, chains, smart_scan, pruning): the same counters in both engines', async () => {
  await fc.assert(fc.asyncProperty(workloadArb, async (w) => {
    let own = 0;
    const images = w.guests.map((kinds) => kinds.map((k) => pageOf(k, own++)));
    const spec: RunSpec = {
      sources: () => images.map((pages, g) => ({
        name: `g${g}`, pages: pages.length,
        read: (sink: (chunk: Uint8Array) => void) => { for (const page of pages) sink(page); },
      })),
      knobs: {
        ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: w.pagesToScan, maxPageSharing: w.maxPageSharing, smartScan: w.smartScan,
        useZeroPages: w.useZeroPages, stableNodeChainsPruneMillisecs: w.prune,
      },
      maxScans: 8,
      stableScans: 2,
    };
    const diffs = runDifferences(await run(spec, 'wasm'), await run(spec, 'fingerprints'));
    if (diffs.length) throw new Error(`differs for ${JSON.stringify(w)}:\n  ${diffs.slice(0, 8).join('\n  ')}`);
  }), { numRuns: Number(process.env.FUZZ_RUNS ?? 150), seed: 10 });
});

test.run();
