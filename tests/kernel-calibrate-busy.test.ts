/**
 * `ksm-wasm calibrate` when KSM is in use (a process with mergeable memory): one line, exit status
 * 2, no profile written, and the kernel's counters and knobs as they were. It starts a process
 * with mergeable memory, so it touches the machine's KSM: run it under the KSM lock, as every
 * kernel suite (flock /tmp/ksm-kernel.lock).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildGuest, startGuest, stopGuest } from './conformance/guests.js';
import { readCounters, saveKnobs } from './conformance/sysfs.js';
import { cannotRun, testIf } from './helpers/can-run.js';
import { CLI, refused, runNode as run } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-calibrate-busy-'));
const file = (name: string, text: string) => { const path = join(dir, name); writeFileSync(path, text); return path; };

const test = suite('calibrate: KSM busy');

testIf(test, cannotRun({ root: 'calibrate drives the real ksmd', compiler: true, ksm: true }))('calibrate: KSM in use (a process with mergeable memory): one line, counters and knobs unchanged', async () => {
  const image = file('guest.img', '\x01'.repeat(4096 * 4));
  const guest = await startGuest(buildGuest(), image);
  try {
    const [counters, knobs] = [readCounters(), saveKnobs()];
    const out = join(dir, 'profile.json');
    const r = await run([CLI, 'calibrate', '--out', out]);
    refused(r, new RegExp(`^ksm-wasm calibrate: KSM is not idle, so ksmd cannot be measured now: other processes have mergeable memory: ${guest.pid} `));
    assert.equal(readCounters(), counters, 'counters unchanged');
    assert.equal(saveKnobs(), knobs, 'knobs unchanged');
    assert.not.ok(existsSync(out), 'no profile written');
  } finally {
    await stopGuest(guest);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
