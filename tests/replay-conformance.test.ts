/**
 * Every oracle script replayed through the engine, compared with what the real ksmd (kernel 6.18)
 * recorded for it (tests/fixtures/oracle-dynamic/results, copies of oracle/results/dynamic): every
 * snapshot of every step (every sysfs file, cow_ksm, rmap_items, each guest's ksm_stat, smaps KSM
 * kB, page map and mapcounts), the op results (errno names, page digests), the step records
 * (batches during an op, scans done, why a step stopped) and the expectations of the script.
 *
 * What the kernel's record holds that cannot be compared as is: the host's cumulative counters
 * (pages_scanned, pages_skipped, cow_ksm, ksm_swpin_copy count since boot, so they are compared
 * as changes since the first snapshot) and sleep_millisecs (the oracle's stepping clock: 600000 or
 * 600001).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScript } from '../src/replay/script.js';
import { genClones } from '../src/estimate/workloads.js';
import { PageContent } from '../src/pagespec.js';
import { replay, type ReplayResult } from '../src/replay/runner.js';
import type { Snapshot } from '../src/replay/snapshot.js';


const HERE = fileURLToPath(new URL('.', import.meta.url));
const FIXTURES = join(HERE, 'fixtures/oracle-dynamic');
const SCRIPTS = readdirSync(join(FIXTURES, 'scripts')).filter((f) => f.endsWith('.json')).sort();
const CUMULATIVE_KSM = ['pages_scanned', 'pages_skipped'];
/** Op result fields only the host run has (pids, the Python guests' own VMAs). */
const HOST_ONLY_RESULT = new Set(['pid', 'ping', 'isolated_vmas', 'isolated_now', 'ok']);

type KernelSnapshot = Snapshot;
interface KernelStep {
  index: number;
  kind: string;
  result?: Record<string, unknown>;
  snapshots: KernelSnapshot[];
  batches_during_op?: number;
  scans_done?: number;
  batches_done?: number;
  stopped_reason?: string;
  contents_ok: boolean;
  expect?: Record<string, { expected: unknown; actual: unknown; ok: boolean }>;
}
interface KernelResult {
  images: string | null;
  knobs_used: Record<string, number | string>;
  snapshot0: KernelSnapshot;
  steps: KernelStep[];
  final_stopped_snapshot: KernelSnapshot;
  guests: { index: number; pages: number; parent: number | null; born_at_step: number | null; died_at_step: number | null }[];
  expectations: { total: number; failed: number };
}

/** The clones scenario of gen.py at scale 0.02 (oracle `images/small`): 8 guests x 41 pages. */
function smallClonesImages(): Uint8Array[] {
  const content = new PageContent(1);
  return genClones(1, 0.02).map((pages) => content.image(pages));
}

/** Every difference between our snapshot and the kernel's, as readable lines. */
function snapshotDiffs(where: string, ours: Snapshot, kernel: KernelSnapshot, ours0: Snapshot, kernel0: KernelSnapshot): string[] {
  const diffs: string[] = [];
  const differ = (what: string, o: unknown, k: unknown): void => {
    if (JSON.stringify(o) !== JSON.stringify(k)) diffs.push(`${where} ${what}: kernel ${JSON.stringify(k)}, ours ${JSON.stringify(o)}`);
  };
  differ('sysfs files', Object.keys(ours.ksm).sort(), Object.keys(kernel.ksm).sort());
  for (const name of Object.keys(kernel.ksm)) {
    if (name === 'sleep_millisecs') continue;
    if (CUMULATIVE_KSM.includes(name)) {
      differ(`d.${name}`, (ours.ksm[name] as number) - (ours0.ksm[name] as number), (kernel.ksm[name] as number) - (kernel0.ksm[name] as number));
    } else {
      differ(name, ours.ksm[name], kernel.ksm[name]);
    }
  }
  for (const name of ['cow_ksm', 'ksm_swpin_copy'] as const) differ(`d.${name}`, ours.vm[name] - ours0.vm[name], kernel.vm[name] - kernel0.vm[name]);
  differ('rmap_items', ours.rmap_items, kernel.rmap_items);
  differ('rmap_items_live_sum', ours.rmap_items_live_sum, kernel.rmap_items_live_sum);
  differ('batch_in_step', ours.batch_in_step, kernel.batch_in_step);
  differ('scan_completed', ours.scan_completed, kernel.scan_completed);
  differ('guests', ours.guests.length, kernel.guests.length);
  for (const [i, kg] of kernel.guests.entries()) {
    const og = ours.guests[i];
    if (!og) continue;
    differ(`g${i}.alive`, og.alive, kg.alive);
    if (!kg.alive || !og.alive) continue;
    for (const field of Object.keys(kg.ksm_stat ?? {})) differ(`g${i}.${field}`, og.ksm_stat?.[field as keyof typeof og.ksm_stat], kg.ksm_stat?.[field as keyof typeof kg.ksm_stat]);
    differ(`g${i}.map`, og.map, kg.map);
    differ(`g${i}.mapcounts`, og.mapcounts, kg.mapcounts);
    differ(`g${i}.smaps_ksm_kb`, og.smaps_ksm_kb, kg.smaps_ksm_kb);
  }
  return diffs;
}

function resultDiffs(ours: ReplayResult, kernel: KernelResult): string[] {
  const diffs: string[] = [];
  const differ = (what: string, o: unknown, k: unknown): void => {
    if (JSON.stringify(o ?? null) !== JSON.stringify(k ?? null)) diffs.push(`${what}: kernel ${JSON.stringify(k)}, ours ${JSON.stringify(o)}`);
  };
  for (const [name, value] of Object.entries(kernel.knobs_used)) if (name !== 'sleep_millisecs') differ(`knobs_used.${name}`, ours.knobs_used[name], value);
  diffs.push(...snapshotDiffs('setup', ours.snapshot0, kernel.snapshot0, ours.snapshot0, kernel.snapshot0));
  differ('steps', ours.steps.length, kernel.steps.length);
  for (const [i, ks] of kernel.steps.entries()) {
    const os = ours.steps[i];
    if (!os) continue;
    const at = `step ${i}`;
    differ(`${at} kind`, os.kind, ks.kind);
    for (const field of ['batches_during_op', 'scans_done', 'batches_done', 'stopped_reason', 'contents_ok'] as const) differ(`${at} ${field}`, os[field], ks[field]);
    for (const field of Object.keys(ks.result ?? {})) if (!HOST_ONLY_RESULT.has(field)) differ(`${at} result.${field}`, os.result?.[field], ks.result?.[field]);
    for (const [key, k] of Object.entries(ks.expect ?? {})) {
      differ(`${at} expect ${key} (actual)`, os.expect?.[key]?.actual, k.actual);
      differ(`${at} expect ${key} (ok)`, os.expect?.[key]?.ok, k.ok);
    }
    differ(`${at} snapshots`, os.snapshots.length, ks.snapshots.length);
    ks.snapshots.forEach((snap, j) => {
      if (os.snapshots[j]) diffs.push(...snapshotDiffs(`${at}.${j}`, os.snapshots[j], snap, ours.snapshot0, kernel.snapshot0));
    });
  }
  diffs.push(...snapshotDiffs('final (run=0)', ours.final_stopped_snapshot, kernel.final_stopped_snapshot, ours.snapshot0, kernel.snapshot0));
  differ('guests', ours.guests, kernel.guests);
  differ('expectations', ours.expectations, kernel.expectations);
  return diffs;
}

const conformance = suite('replay: every oracle script, every step, equal to the kernel\'s record');

conformance('the small clones images are gen.py\'s (SHA-256 of each image as gen.py recorded it)', () => {
  const scenario = JSON.parse(readFileSync(join(FIXTURES, 'images-small.scenario.json'), 'utf8')) as { guests: { sha256: string }[] };
  const images = smallClonesImages();
  assert.equal(images.map((img) => createHash('sha256').update(img).digest('hex')), scenario.guests.map((g) => g.sha256));
});

for (const file of SCRIPTS) {
  conformance(file.replace(/\.json$/, ''), async () => {
    const script = parseScript(readFileSync(join(FIXTURES, 'scripts', file), 'utf8'));
    const kernel = JSON.parse(readFileSync(join(FIXTURES, 'results', file), 'utf8')) as KernelResult;
    const images = kernel.images === null ? undefined : smallClonesImages();
    const ours = await replay(script, { images });
    assert.is(ours.expectations.failed, 0, `${file}: every expectation of the script holds`);
    assert.ok(ours.contents_all_ok, `${file}: every guest reads back what was written`);
    assert.equal(resultDiffs(ours, kernel), [], `${file}: no difference from the kernel's record`);
  });
}

conformance.run();
