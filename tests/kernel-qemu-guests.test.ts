/**
 * The case the project exists for, live: QEMU guests booted from the same kernel and initramfs,
 * frozen, estimated with `ksm-wasm estimate --pid` (as a user runs it, and each engine in one thread
 * and in content shards on worker threads), then settled on by the real ksmd. Every full scan's
 * counters, each guest's ksm_stat and the memory the guests' page maps show freed must be equal
 * for every one of those runs (scripts/qemu/guests.ts compare does the work and exits 1 on any
 * difference); but with huge pages, the fingerprint engine's scans before the settled one, where
 * huge pages split, may differ (its tree is in fingerprint order, docs/fingerprints.md): it must
 * settle at the same scan, and be equal from there on.
 *
 * Needs root, an idle KSM, and Debian's qemu-system-x86, linux-image-amd64, busybox-static and
 * cpio (.ci/run installs them); otherwise the tests are reported as skipped, with the reason. Each
 * boots two 128 MiB guests under TCG (about 10 s here): once with the transparent huge pages the host gives
 * QEMU, where a run is one shard, and once without (PR_SET_THP_DISABLE on QEMU), where the estimate
 * also runs in content shards on worker threads. The guests are killed whatever happens.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { liveUnavailable } from './live/kernel.js';
import { cannotRun, skipTest } from './helpers/can-run.js';
import { findKernel } from '../scripts/qemu/setup.js';
import { configurationName, configurations, type ConfiguredEstimate } from '../scripts/qemu/compare.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const test = suite('QEMU guests vs the real ksmd');

function guestsMissing(): string | undefined {
  const missing = cannotRun({ files: ['/usr/bin/qemu-system-x86_64', '/bin/busybox'], commands: ['cpio'] });
  if (missing) return missing;
  return findKernel() ? undefined : 'no /boot/vmlinuz-* (linux-image-amd64)';
}

const why = liveUnavailable() ?? guestsMissing();

/** Why guests booted as they are would have no transparent huge pages, or undefined. */
function hostGivesNoHugePages(): string | undefined {
  const path = '/sys/kernel/mm/transparent_hugepage/enabled';
  if (!existsSync(path)) return 'this kernel has no transparent huge pages';
  return readFileSync(path, 'utf8').includes('[never]') ? `${path} is never: the guests would have no huge pages` : undefined;
}
/** What each configuration ran as (mode × shards), after the defaults (auto's choice). */
const RAN_AS = { on: ['pages × 1', 'fingerprints × 1'], off: ['pages × 1', 'fingerprints × 1', 'pages × 2', 'fingerprints × 3'] };

for (const hugePages of ['on', 'off'] as const) {
  const name = hugePages === 'on'
    ? 'two booted guests, huge pages as the host gives them: estimate --pid equals the kernel, scan by scan, in each engine'
    : 'two booted guests without huge pages: estimate --pid equals the kernel, scan by scan, in each engine and in content shards';
  // Without huge pages, QEMU starts through python3 (prctl: scripts/qemu/boot.ts); with them, the host must give some.
  const missing = why ?? (hugePages === 'off' ? cannotRun({ commands: ['python3'] }) : hostGivesNoHugePages());
  if (missing) {
    skipTest(test, name, `${missing} (.ci/run installs qemu-system-x86, linux-image-amd64, busybox-static, cpio and python3)`);
    continue;
  }
  test(name, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/qemu/guests.ts', 'compare', '--count', '2', '--memory', '128M', '--max-scans', '20', '--huge-pages', hugePages], {
      cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 10 * 60_000,
      // The suite holds KSM already (README: the kernel suites need it to themselves); no second lock.
      env: { ...process.env, KSM_WASM_LOCKED: '1' },
    });
    const log = r.stderr.trim().split('\n').slice(-12).join('\n');
    assert.is(r.status, 0, `guests.ts compare exited ${r.status ?? r.signal}:\n${log}`);
    const result = JSON.parse(r.stdout) as { scans: Array<{ counters: Record<string, number> }>; estimates: ConfiguredEstimate[] };
    const last = result.scans[result.scans.length - 1].counters;
    assert.ok(last.pages_sharing > 1000, `the guests share their kernel's pages (pages_sharing ${last.pages_sharing})`);
    assert.equal(result.estimates.map((e) => e.options), configurations(hugePages === 'on').map(configurationName), 'every configuration ran');
    assert.equal(result.estimates.slice(1).map((e) => `${e.estimate.mode} × ${e.estimate.shards}`), RAN_AS[hugePages], 'each ran as asked');
    for (const { options, estimate } of result.estimates) assert.is(estimate.scans[result.scans.length - 1].pages_sharing, last.pages_sharing, options);
    // Where the scans may differ, the estimate says so; nowhere else.
    for (const { options, equal, hugePagesNote } of result.estimates) assert.is(hugePagesNote !== undefined, equal === 'from settled', `${options}: ${hugePagesNote ?? 'no note on huge pages'}`);
    assert.not.match(r.stderr, /DIFFERENT/, log);
  });
}

test.run();
