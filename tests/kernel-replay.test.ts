/**
 * Replay scripts of our own (tests/fixtures/live-scripts) run on the real ksmd of this machine
 * (tests/conformance/replay.ts: C guests taking commands, ksmd stepped one batch at a time) and
 * through the engine (src/replay's `replay`, with the same knob values). After every step, and
 * after every scan or batch within a step, every /sys/kernel/mm/ksm file (pages_scanned and
 * pages_skipped as changes since setup; sleep_millisecs is the stepping clock), cow_ksm (as a
 * change), each guest's alive flag and ksm_stat, a knob op's errno name, and a scan step's
 * scans_done / batches_done / stopped_reason must be equal; every guest must read back what was
 * written, on both sides.
 *
 * These scripts cover what the oracle's 13 do not: stable node chains at max_page_sharing 2 and 3
 * with COW breaks that leave dups stale, pruned and collapsed by later scans at
 * stable_node_chains_prune_millisecs 0; fork of a space whose KSM pages are in a chain, and
 * unmergeable/dontneed/munmap on the child; use_zero_pages with writes back to zero.
 *
 * Runs when /sys/kernel/mm/ksm is writable (root, CONFIG_KSM), KSM is idle (run=0, no KSM page, no
 * other process with mergeable memory) and cc is installed; otherwise every script is reported as
 * skipped, with the reason (tests/helpers/can-run.ts). The knobs are always restored and run is
 * left at 0.
 *
 * L4_chain_exit_knobs found two differences, both fixed in the engine: a pruned chain left with one
 * full dup collapses into it (the kernel's stable_node_chains 0 / dups 0), and MADV_MERGEABLE that
 * registers the first mm wakes a ksmd that waits for work, which scans at once (a batch during the
 * op). KSM_LIVE_SCRIPTS=DIR runs another directory of scripts.
 *
 * Ops this harness does not run: read, merge_any, knob run, images (see conformance/replay.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseScript } from '../src/replay/script.js';
import { replay } from '../src/replay/runner.js';
import type { Snapshot } from '../src/replay/snapshot.js';
import { KernelUnavailable } from './conformance/harness.js';
import { runLive, type LiveRun, type LiveSnapshot } from './conformance/replay.js';
import { cannotRun, skipTest } from './helpers/can-run.js';

/** KSM_LIVE_SCRIPTS=DIR runs another directory of scripts. */
const DIR = process.env.KSM_LIVE_SCRIPTS ?? join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/live-scripts');
const SCRIPTS = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const DELTAS = ['pages_scanned', 'pages_skipped'];

const test = suite('kernel replay (real ksmd, scripts of our own)');
const skip = cannotRun({ compiler: true, ksm: true });

function snapshotDiffs(where: string, ours: Snapshot, ours0: Snapshot, kernel: LiveSnapshot, kernel0: LiveSnapshot): string[] {
  const diffs: string[] = [];
  const differ = (what: string, o: unknown, k: unknown): void => {
    if (JSON.stringify(o ?? null) !== JSON.stringify(k ?? null)) diffs.push(`${where} ${what}: kernel ${JSON.stringify(k)}, engine ${JSON.stringify(o)}`);
  };
  differ('sysfs files', Object.keys(ours.ksm).sort(), Object.keys(kernel.ksm).sort());
  for (const name of Object.keys(kernel.ksm)) {
    if (name === 'sleep_millisecs') continue;
    // The live harness already counts these from its setup; the engine counts from 0 at its setup.
    if (DELTAS.includes(name)) differ(`d.${name}`, (ours.ksm[name] as number) - (ours0.ksm[name] as number), kernel.ksm[name]);
    else differ(name, ours.ksm[name], kernel.ksm[name]);
  }
  differ('d.cow_ksm', ours.vm.cow_ksm - ours0.vm.cow_ksm, kernel.cow_ksm - kernel0.cow_ksm);
  differ('guests', ours.guests.length, kernel.guests.length);
  for (const [i, kg] of kernel.guests.entries()) {
    const og = ours.guests[i];
    if (!og) continue;
    differ(`g${i}.alive`, og.alive, kg.alive);
    if (!kg.alive || !og.alive) continue;
    for (const [field, value] of Object.entries(kg.ksm_stat ?? {})) {
      const mine = og.ksm_stat?.[field as keyof NonNullable<typeof og.ksm_stat>];
      differ(`g${i}.${field}`, mine === 'yes' ? 1 : mine === 'no' ? 0 : mine, value);
    }
  }
  return diffs;
}

if (skip) {
  for (const file of SCRIPTS) skipTest(test, file.replace(/\.json$/, ''), skip);
} else {
  for (const file of SCRIPTS) {
    test(file.replace(/\.json$/, ''), async () => {
      const script = parseScript(readFileSync(join(DIR, file), 'utf8'), file);
      const ours = await replay(script);
      const t0 = performance.now();
      let kernel: LiveRun;
      try {
        kernel = await runLive(parseScript(readFileSync(join(DIR, file), 'utf8'), file), ours.knobs_used);
      } catch (error) {
        if (error instanceof KernelUnavailable) throw new Error(`KSM was idle when the suite started but is not now (${file}): ${error.message}; run the kernel suites under flock /tmp/ksm-kernel.lock`);
        throw error;
      }
      const ms = performance.now() - t0;
      assert.ok(ours.contents_all_ok, `${file}: every engine guest reads back what was written`);
      assert.ok(kernel.contentsOk, `${file}: every kernel guest reads back what was written`);
      const diffs = snapshotDiffs('setup', ours.snapshot0, ours.snapshot0, kernel.snapshot0, kernel.snapshot0);
      const differ = (what: string, o: unknown, k: unknown): void => {
        if (JSON.stringify(o ?? null) !== JSON.stringify(k ?? null)) diffs.push(`${what}: kernel ${JSON.stringify(k)}, engine ${JSON.stringify(o)}`);
      };
      differ('steps', ours.steps.length, kernel.steps.length);
      for (const [i, ks] of kernel.steps.entries()) {
        const os = ours.steps[i];
        if (!os) continue;
        const at = `step ${i} (${JSON.stringify(os.step)})`;
        if (ks.kind === 'op') differ(`${at} error`, os.result?.error ?? null, ks.error ?? null);
        for (const field of ['scans_done', 'batches_done', 'stopped_reason'] as const) differ(`${at} ${field}`, os[field], ks[field]);
        differ(`${at} snapshots`, os.snapshots.length, ks.snapshots.length);
        ks.snapshots.forEach((snap, j) => {
          if (os.snapshots[j]) diffs.push(...snapshotDiffs(`${at}.${j}`, os.snapshots[j], ours.snapshot0, snap, kernel.snapshot0));
        });
      }
      if (diffs.length) assert.unreachable(`the engine differs from the kernel on ${file}:\n  ${diffs.slice(0, 40).join('\n  ')}`);
      const steps = kernel.steps.reduce((n, s) => n + s.snapshots.length, 0);
      console.log(`  ok ${file}: ${kernel.steps.length} steps, ${steps} snapshots equal, kernel run ${Math.round(ms)} ms, ${kernel.repokes} repokes`);
    });
  }
}

test.run();
