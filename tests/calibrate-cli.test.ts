/**
 * `ksm-wasm calibrate` and `estimate --profile` refuse bad input with one line and exit status 2,
 * writing nothing: a profile file that is missing, not JSON, not a profile, or holds a bad value;
 * calibrate when not root (KSM in use: tests/kernel-calibrate-busy.test.ts, which touches the
 * kernel's KSM and so runs with the kernel suites). Calibrate's measurement itself needs minutes
 * of the real ksmd: it is not run here (tests/estimate-clock.test.ts checks the profile against
 * recorded runs).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_PROFILE } from '../src/estimate/default-profile.js';
import { CLI, ROOT, refused, runNode as run, type Result } from './helpers/run-cli.js';

const DROP = new URL('./helpers/drop-privileges.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-calibrate-'));
const file = (name: string, text: string) => { const path = join(dir, name); writeFileSync(path, text); return path; };

const test = suite('calibrate and --profile: bad input');

test('estimate --profile: a missing file', async () => {
  refused(await run([CLI, 'estimate', '--scenario', 'clones', '--profile', join(dir, 'absent.json')]), /^ksm-wasm estimate: --profile .*absent\.json: no such file or directory \(ENOENT\)$/);
});

test('estimate --profile: a corrupt file (not JSON)', async () => {
  const path = file('corrupt.json', '{"format": "ksm-wasm-clock-profile", "hz": 25');
  refused(await run([CLI, 'estimate', '--scenario', 'clones', '--profile', path]), /^ksm-wasm estimate: --profile .*corrupt\.json: not JSON \(.*\); a clock profile is what ksm-wasm calibrate writes$/);
});

test('estimate --profile: a foreign file (JSON, not a profile)', async () => {
  const path = join(ROOT, 'package.json');
  refused(await run([CLI, 'estimate', '--scenario', 'clones', '--profile', path]), /^ksm-wasm estimate: --profile .*package\.json: not a ksm-wasm clock profile \(no "format": "ksm-wasm-clock-profile"\); ksm-wasm calibrate writes one$/);
});

test('estimate --profile: a profile with a bad value, or of another version', async () => {
  const bad = file('bad.json', JSON.stringify({ ...DEFAULT_PROFILE, cpuUs: { ...DEFAULT_PROFILE.cpuUs, pairMerge: -1 } }));
  refused(await run([CLI, 'estimate', '--scenario', 'clones', '--profile', bad]), /^ksm-wasm estimate: --profile .*bad\.json: "cpuUs\.pairMerge" must be a number of µs, 0 or more$/);
  const later = file('v3.json', JSON.stringify({ ...DEFAULT_PROFILE, version: 3 }));
  refused(await run([CLI, 'estimate', '--scenario', 'clones', '--profile', later]), /clock profile version 3, this ksm-wasm reads version 2$/);
  // Version 1 costed every merge alike; its profiles are not read as if they said the same.
  const earlier = file('v1.json', JSON.stringify({ ...DEFAULT_PROFILE, version: 1 }));
  refused(await run([CLI, 'estimate', '--scenario', 'clones', '--profile', earlier]), /clock profile version 1, this ksm-wasm reads version 2$/);
});

test('estimate --profile: a good profile is used (its costs change ksmd_cpu_ms)', async () => {
  const doubled = file('double.json', JSON.stringify({ ...DEFAULT_PROFILE, cpuUs: Object.fromEntries(Object.entries(DEFAULT_PROFILE.cpuUs).map(([k, v]) => [k, v * 2])) }));
  const [a, b] = await Promise.all([run([CLI, 'estimate', '--scenario', 'clones', '--json', '--max-scans', '2']), run([CLI, 'estimate', '--scenario', 'clones', '--json', '--max-scans', '2', '--profile', doubled])]);
  const cpu = (r: Result) => (JSON.parse(r.stdout) as { scans: Array<{ ksmd_cpu_ms: number }> }).scans.map((s) => s.ksmd_cpu_ms);
  cpu(a).forEach((x, i) => assert.ok(Math.abs(cpu(b)[i] - 2 * x) < 0.01, `scan ${i + 1}: ${cpu(b)[i]} is twice ${x}`));
});

const isRoot = process.getuid?.() === 0;

test('calibrate: not root', async () => {
  // As root, the CLI drops to nobody right before it first reads /proc (tests/helpers/drop-privileges.ts).
  const r = await run(isRoot ? [DROP, '65534', '65534', CLI, 'calibrate'] : [CLI, 'calibrate']);
  refused(r, /^ksm-wasm calibrate: cannot drive this host's ksmd: .*(root|does not exist|not Linux)/);
});

test('calibrate: a bad --out or --repeats is refused before anything runs', async () => {
  refused(await run([CLI, 'calibrate', '--out', join(dir, 'no-such-dir', 'p.json')]), /^ksm-wasm calibrate: --out .*: directory .* does not exist$/);
  refused(await run([CLI, 'calibrate', '--repeats', '0']), /^ksm-wasm calibrate: --repeats 0: must be an integer from 1 to 20$/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
