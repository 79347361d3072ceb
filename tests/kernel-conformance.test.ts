/**
 * The engine against the real ksmd of this machine. Each workload runs through the kernel (the
 * harness in tests/conformance: one process per image, step mode) and through `ksm-wasm estimate`'s
 * code on the same image files with the same knobs and batch sizes, on each engine (the page
 * engine, the reference, and the fingerprint engine of --mode fingerprints); every counter after every full
 * scan, each space's ksm_stat, the simulated time and settled_at_full_scan must be equal.
 *
 * Runs when /sys/kernel/mm/ksm is writable (root, CONFIG_KSM), KSM is idle and cc is installed;
 * otherwise every workload is reported as skipped, with the reason (tests/helpers/can-run.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PageContent } from '../src/pagespec.js';
import { openInputs } from '../src/cli/inputs.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import { runEstimate } from '../src/estimate/run.js';
import { compareRuns, formatDifferences } from './conformance/compare.js';
import { KernelUnavailable, runKernel, type KernelRun } from './conformance/harness.js';
import { WORKLOADS, type Workload } from './conformance/workloads.js';
import { cannotRun, skipTest } from './helpers/can-run.js';
import type { EngineName } from '../src/backend.js';

const test = suite('kernel conformance (real ksmd)');
const skip = cannotRun({ compiler: true, ksm: true });
const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-conformance-'));
const maker = new PageContent(7);

function writeImages(w: Workload, index: number): string[] {
  return w.guests.map((pages, g) => {
    const path = join(dir, `w${index}-g${g}.img`);
    writeFileSync(path, maker.image(pages));
    return path;
  });
}

async function engineRun(w: Workload, images: string[], engine: EngineName) {
  const k = w.knobs;
  return runEstimate(openInputs(images.map((path) => ({ kind: 'image' as const, path }))), {
    engine,
    knobs: {
      ...ESTIMATE_KNOB_DEFAULTS,
      pagesToScan: k.pages_to_scan!, maxPageSharing: k.max_page_sharing!, useZeroPages: k.use_zero_pages as 0 | 1,
      smartScan: k.smart_scan as 0 | 1, stableNodeChainsPruneMillisecs: k.stable_node_chains_prune_millisecs!, sleepMillisecs: 20,
    },
    maxScans: w.maxScans,
    stableScans: w.stableScans,
    maxMemory: 256 << 20,
  });
}

function describeKernel(w: Workload, k: KernelRun, ms: number): string {
  const last = k.scans[k.scans.length - 1].counters;
  return `${w.name}: ${w.guests.reduce((n, g) => n + g.length, 0)} pages, ${k.scans.length} scans, settled at ${k.settledAt}, ` +
    `shared ${last.pages_shared} sharing ${last.pages_sharing} zero ${last.ksm_zero_pages} chains ${last.stable_node_chains} dups ${last.stable_node_dups}, ` +
    `${k.scans[k.scans.length - 1].batches} batches, ${Math.round(ms)} ms`;
}

if (skip) {
  for (const w of WORKLOADS) skipTest(test, w.name, skip);
} else {
  WORKLOADS.forEach((w, index) => {
    test(w.name, async () => {
      const images = writeImages(w, index);
      const t0 = performance.now();
      let kernel: KernelRun;
      try {
        kernel = await runKernel(images, w.knobs, { maxScans: w.maxScans, stableScans: w.stableScans });
      } catch (error) {
        if (error instanceof KernelUnavailable) throw new Error(`KSM was idle when the suite started but is not now (${w.name}): ${error.message}; run the kernel suites under flock /tmp/ksm-kernel.lock`);
        throw error;
      }
      const ms = performance.now() - t0;
      assert.is(kernel.repokes, 0, 'ksmd answered every poke');
      for (const engine of ['wasm', 'reference', 'fingerprints'] as const) {
        const run = await engineRun(w, images, engine);
        const diffs = compareRuns(kernel, run);
        if (diffs.length) assert.unreachable(`${engine} engine differs from the kernel on "${w.name}":\n${formatDifferences(diffs)}`);
      }
      const cpu = await engineRun(w, images, 'wasm').then((r) => r.scans.map((s, i) => s.cpuMs - (r.scans[i - 1]?.cpuMs ?? 0)));
      const kernelCpu = kernel.scans.map((s, i) => (s.cpuNs - (kernel.scans[i - 1]?.cpuNs ?? 0)) / 1e6);
      const est = cpu.reduce((a, c) => a + c, 0);
      const measured = kernelCpu.reduce((a, c) => a + c, 0);
      console.log(`  ok ${describeKernel(w, kernel, ms)}; ksmd CPU ${measured.toFixed(1)} ms, estimated ${est.toFixed(1)} ms`);
    });
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
