/**
 * The case the project exists for, live: QEMU guests booted from the same kernel and initramfs,
 * frozen, estimated with `ksm-wasm estimate --pid`, then settled on by the real ksmd. Every full
 * scan's counters, each guest's ksm_stat and the memory the guests' page maps show freed must be
 * equal (scripts/qemu/guests.ts compare does the work and exits 1 on any difference).
 *
 * Needs root, an idle KSM, and Debian's qemu-system-x86, linux-image-amd64, busybox-static and
 * cpio (.ci/run installs them); otherwise the test is reported as skipped, with the reason. It
 * boots two 128 MiB guests under TCG (about 40 s in all); they are killed whatever happens.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { liveUnavailable } from './live/kernel.js';
import { cannotRun, skipTest } from './helpers/can-run.js';
import { findKernel } from '../scripts/qemu/setup.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const test = suite('QEMU guests vs the real ksmd');

function guestsMissing(): string | undefined {
  const missing = cannotRun({ files: ['/usr/bin/qemu-system-x86_64', '/bin/busybox'], commands: ['cpio'] });
  if (missing) return missing;
  return findKernel() ? undefined : 'no /boot/vmlinuz-* (linux-image-amd64)';
}

const why = liveUnavailable() ?? guestsMissing();
if (why) {
  skipTest(test, 'two booted guests: estimate --pid equals the kernel, scan by scan', `${why} (.ci/run installs qemu-system-x86, linux-image-amd64, busybox-static and cpio)`);
} else {
  test('two booted guests: estimate --pid equals the kernel, scan by scan', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/qemu/guests.ts', 'compare', '--count', '2', '--memory', '128M', '--max-scans', '20'], {
      cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 10 * 60_000,
      // The suite holds KSM already (README: the kernel suites need it to themselves); no second lock.
      env: { ...process.env, KSM_WASM_LOCKED: '1' },
    });
    const log = r.stderr.trim().split('\n').slice(-12).join('\n');
    assert.is(r.status, 0, `guests.ts compare exited ${r.status ?? r.signal}:\n${log}`);
    const result = JSON.parse(r.stdout) as { scans: Array<{ counters: Record<string, number> }>; estimate: { scans: Array<Record<string, number>> } };
    const last = result.scans[result.scans.length - 1].counters;
    assert.ok(last.pages_sharing > 1000, `the guests share their kernel's pages (pages_sharing ${last.pages_sharing})`);
    assert.is(result.estimate.scans[result.scans.length - 1].pages_sharing, last.pages_sharing);
    assert.not.match(r.stderr, /DIFFERENT/, log);
  });
}

test.run();
