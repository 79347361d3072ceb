/**
 * Content shards from the command line: `estimate --threads N` on worker threads, and the
 * map/reduce run (`fingerprint`, then `estimate --from --shard I/K` in K separate processes, then
 * `merge`) give the counters of a one-shard run, byte for byte in the JSON (all but wall_ms,
 * startup_ms and shards). Bad input to any step is one line and a non-zero exit.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../src/cli/main.js';
import { PageContent } from '../src/pagespec.js';
import { WORKLOADS } from './conformance/workloads.js';
import { CLI, refused, runNode, type Result } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-shards-'));
const at = (name: string) => join(dir, name);

// A mix of OS images, libraries, 0xFF and zero pages, in-guest pairs and unique data (a conformance workload).
const mix = WORKLOADS.find((w) => w.name.startsWith('a mix'))!;
const IMAGES = mix.guests.map((pages, g) => {
  writeFileSync(at(`guest${g}.img`), new PageContent(7).image(pages));
  return at(`guest${g}.img`);
});
const KNOBS = ['--pages-to-scan', '37', '--use-zero-pages', '1', '--max-page-sharing', '4', '--max-scans', '12'];
const K = 3;

/** The JSON without what the run's own speed and split decide. */
function counters(stdout: string): string {
  const j = JSON.parse(stdout);
  const drop = ({ wall_ms: _, ...rest }: Record<string, unknown>) => rest;
  const { startup_ms: _s, shards: _k, ...rest } = j;
  return JSON.stringify({ ...rest, scans: j.scans.map(drop), converged: drop(j.converged) });
}

function ok(r: Result, what: string): string {
  assert.is(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

/** The CLI in this process (for the refusals: faster than a process each). */
async function cli(...args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'ksm-wasm', ...args], { out: (t) => { stdout += t; }, err: (t) => { stderr += t; }, env: {} });
  return { code, stdout, stderr };
}

const test = suite('estimate --threads, fingerprint, estimate --from --shard, merge');

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('K separate processes, the threaded run, --from without --shard and a one-shard run: the same JSON counters', async () => {
  ok(await runNode([CLI, 'fingerprint', ...IMAGES, '-o', at('fp.kfp')]), 'fingerprint');
  const shards = await Promise.all(Array.from({ length: K }, (_, i) => runNode([CLI, 'estimate', '--from', at('fp.kfp'), '--shard', `${i}/${K}`, '--json', ...KNOBS])));
  shards.forEach((r, i) => writeFileSync(at(`shard-${i}.json`), ok(r, `shard ${i}`)));
  const [merged, whole, threaded, one] = await Promise.all([
    runNode([CLI, 'merge', ...shards.map((_, i) => at(`shard-${i}.json`)), '--json']),
    runNode([CLI, 'estimate', '--from', at('fp.kfp'), '--json', ...KNOBS]),
    runNode([CLI, 'estimate', ...IMAGES, '--threads', '2', '--json', ...KNOBS]),
    runNode([CLI, 'estimate', ...IMAGES, '--threads', '1', '--json', ...KNOBS]),
  ]);
  assert.equal(JSON.parse(ok(merged, 'merge')).shards, K);
  assert.equal(JSON.parse(ok(threaded, 'threaded')).shards, 2);
  assert.equal(JSON.parse(ok(one, 'one shard')).shards, 1);
  assert.ok(JSON.parse(one.stdout).converged.pages_sharing > 0, 'the workload merges something');
  assert.is(counters(merged.stdout), counters(one.stdout), 'K processes, merged = one shard');
  assert.is(counters(threaded.stdout), counters(one.stdout), 'threads = one shard');
  assert.is(counters(ok(whole, '--from, all pages')), counters(one.stdout), 'estimate --from FILE (no --shard) = one shard');
  assert.ok(JSON.parse(threaded.stdout).startup_ms > 0, 'worker start-up is reported apart');
});

test('merge ends with the one-machine verdict, less ksmtuned and the domain comparison, which it says it leaves out', async () => {
  const files = Array.from({ length: K }, (_, i) => at(`shard-${i}.json`));
  const [merged, one, quiet] = await Promise.all([
    runNode([CLI, 'merge', ...files, '--cpu-cap', '5']),
    runNode([CLI, 'estimate', ...IMAGES, '--threads', '1', '--cpu-cap', '5', ...KNOBS]),
    runNode([CLI, 'merge', ...files, '--no-verdict']),
  ]);
  const verdict = (out: string) => out.slice(out.indexOf('Verdict:')).trimEnd().split('\n');
  const m = verdict(ok(merged, 'merge'));
  const o = verdict(ok(one, 'estimate'));
  assert.ok(m.length >= 5 && m[0] === 'Verdict:', ok(merged, 'merge'));
  assert.ok(m.some((l) => /^  ksmtuned and sharing domains: not from shard results .*estimate the inputs on one machine/.test(l)));
  assert.ok(o.some((l) => /^  a domain per input \(4; no --domain given\)/.test(l)), 'the one-machine verdict compares domains');
  const shared = (lines: string[]) => lines.filter((l) => !/^  (ksmtuned|a domain per input|per-tenant)/.test(l));
  assert.ok(shared(m).some((l) => /^  fastest under 5\.0% of a core|^  no pages_to_scan/.test(l)), 'the cap is --cpu-cap');
  assert.equal(shared(m), shared(o), 'the paces, the recommendation and the thresholds are the one-machine run\'s');
  assert.not.match(ok(quiet, 'merge --no-verdict'), /Verdict:/);
  refused(await cli('merge', ...files, '--cpu-cap', '0'), /--cpu-cap 0: a percentage of one core/);
});

test('inputs that fit the shards but not one engine: the verdict says ksmtuned was left out, and the estimate is done', async () => {
  // 4.1 GiB of pages, more than the page engine's rule lets one engine hold, so --max-memory is each
  // shard's; ksmtuned's simulation runs as one engine, which the memory rule refuses under that cap.
  const r = await runNode([CLI, 'estimate', '--scenario', 'clones', '--size', '4200M', '--mode', 'fingerprints', '--threads', '2', '--max-memory', '64'], 120_000);
  const out = ok(r, 'estimate');
  assert.match(out, /^Merge state settled after full scan \d+/m);
  assert.match(out, /^  ksmtuned: not simulated: .* runs as one engine, and the inputs hold 4\.1 GiB of pages: their fingerprints need .*, more than the engine's memory cap of 64\.0 MiB \(raise it with --max-memory, at most 4\.0 GiB\); the estimate ran in 2 content shards, and the cap is each one's\.$/m);
  assert.match(out, /^  So: /m, 'the rest of the verdict is there');
});

test('a fingerprint file that is truncated, corrupted, foreign or of another version: one line each', async () => {
  const good = new Uint8Array(readFileSync(at('fp.kfp')));
  writeFileSync(at('short.kfp'), good.subarray(0, good.length - 100));
  const flipped = good.slice();
  flipped[Math.floor(flipped.length / 2)] ^= 1;
  writeFileSync(at('flipped.kfp'), flipped);
  const version = new DataView(good.buffer, good.byteOffset).getUint32(8, true);
  const withVersion = (v: number) => { const copy = good.slice(); new DataView(copy.buffer).setUint32(8, v, true); return copy; };
  writeFileSync(at('older.kfp'), withVersion(version - 1));
  writeFileSync(at('newer.kfp'), withVersion(version + 1));
  refused(await cli('estimate', '--from', at('older.kfp'), '--shard', '0/2', '--json'), new RegExp(`older\\.kfp: fingerprint file version ${version - 1}; this ksm-wasm reads version ${version} \\(.*make it again with ksm-wasm fingerprint\\)$`));
  refused(await cli('estimate', '--from', at('newer.kfp'), '--shard', '0/2', '--json'), new RegExp(`newer\\.kfp: fingerprint file version ${version + 1}; this ksm-wasm reads version ${version}$`));
  refused(await cli('estimate', '--from', at('short.kfp'), '--shard', '0/2', '--json'), /short\.kfp: truncated: \d+ bytes where its header says \d+/);
  refused(await cli('estimate', '--from', at('flipped.kfp'), '--shard', '0/2', '--json'), /flipped\.kfp: corrupted: its SHA-256 does not match/);
  refused(await cli('estimate', '--from', IMAGES[0], '--json'), /guest0\.img: not a ksm-wasm fingerprint file/);
  refused(await cli('estimate', '--from', at('nowhere.kfp'), '--json'), /nowhere\.kfp: no such file/);
  writeFileSync(at('cut12.kfp'), good.subarray(0, 12));
  refused(await cli('estimate', '--from', at('cut12.kfp'), '--json'), /cut12\.kfp: truncated: 12 bytes, shorter than the 16 bytes every fingerprint file starts with$/);
  mkdirSync(at('dir.kfp'), { recursive: true });
  refused(await cli('estimate', '--from', at('dir.kfp'), '--json'), /dir\.kfp: a directory, not a fingerprint file$/);
});

/** A fingerprint file with its SHA-256 made again over everything before it (as one made by hand would be). */
function resealed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.set(createHash('sha256').update(out.subarray(0, out.length - 32)).digest(), out.length - 32);
  return out;
}

/** A fingerprint file's parts: its header (parsed) and the header's length in bytes. */
function headerOf(file: Uint8Array): { header: { inputs: object[] }; headerLength: number } {
  const headerLength = new DataView(file.buffer, file.byteOffset).getUint32(12, true);
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(16, 16 + headerLength))), headerLength };
}

/** `file` made again by hand with `header` instead of its own, then `body` (entries and the checksum's place), resealed. */
function withHeader(file: Uint8Array, header: object, body: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(16 + text.length + body.length);
  out.set(file.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, text.length, true);
  out.set(text, 16);
  out.set(body, 16 + text.length);
  return resealed(out);
}

test('a fingerprint file made by hand, checksum right: no inputs, or a page index out of place, is refused naming it', async () => {
  const good = new Uint8Array(readFileSync(at('fp.kfp')));
  const { header, headerLength } = headerOf(good);
  writeFileSync(at('empty.kfp'), withHeader(good, { ...header, inputs: [] }, new Uint8Array(32)));
  refused(await cli('estimate', '--from', at('empty.kfp'), '--json'), /empty\.kfp: corrupted: its header is not one of a version \d+ fingerprint file \(.*one input or more\)$/);
  const far = good.slice();
  new DataView(far.buffer).setUint32(16 + headerLength, 999_999, true);
  writeFileSync(at('far.kfp'), resealed(far));
  refused(await cli('estimate', '--from', at('far.kfp'), '--json'), /far\.kfp: corrupted: input 0 \(".*"\) has an entry for page 999999, outside its \d+ pages$/);
  const back = good.slice();
  new DataView(back.buffer).setUint32(16 + headerLength + 28, 0, true); // the second entry's page: the first's again
  writeFileSync(at('back.kfp'), resealed(back));
  refused(await cli('estimate', '--from', at('back.kfp'), '--json'), /back\.kfp: corrupted: input 0 \(".*"\) has an entry for page 0, out of address order$/);
});

test('a fingerprint file with huge pages: the estimate notes that its split scans may differ from ksmd\'s, and it runs as one shard', async () => {
  const good = new Uint8Array(readFileSync(at('fp.kfp')));
  const { header, headerLength } = headerOf(good);
  const hugeInputs = header.inputs.map((input, i) => ({ ...input, huge_spans: i === 0 ? [0] : [] }));
  writeFileSync(at('huge.kfp'), withHeader(good, { ...header, inputs: hugeInputs }, good.subarray(16 + headerLength)));
  for (const mode of ['fingerprints', 'pages']) {
    const r = await cli('estimate', '--from', at('huge.kfp'), '--json', '--mode', mode, ...KNOBS);
    ok(r, `--from a file with huge pages, --mode ${mode}`);
    assert.match(r.stderr, /^ksm-wasm estimate: note: 2\.0 MiB of the inputs are transparent huge pages: in the full scans where they split, the counters can differ from ksmd's .*fingerprint files keep no bytes: estimate the inputs themselves with --mode pages to keep ksmd's order\.$/m);
  }
  assert.not.match((await cli('estimate', '--from', at('fp.kfp'), '--json', ...KNOBS)).stderr, /transparent huge pages/, 'no huge pages, no note');
  refused(await cli('estimate', '--from', at('huge.kfp'), '--shard', `0/${K}`, '--json', ...KNOBS), /has transparent huge pages \(a merge splits a huge page for all its subpages\)/);
});

test('merge refuses what is not the K shards of one run', async () => {
  const shard = (i: number) => at(`shard-${i}.json`);
  ok(await cli('fingerprint', IMAGES[0], '-o', at('other.kfp')), 'fingerprint of other inputs');
  writeFileSync(at('other-1.json'), ok(await cli('estimate', '--from', at('other.kfp'), '--shard', `1/${K}`, '--json', ...KNOBS), 'other inputs'));
  writeFileSync(at('knobs-1.json'), ok(await cli('estimate', '--from', at('fp.kfp'), '--shard', `1/${K}`, '--json', ...KNOBS, '--smart-scan', '0'), 'other knobs'));
  refused(await cli('merge', shard(0), at('other-1.json'), shard(2)), /other-1\.json and .*shard-0\.json: shards of different inputs/);
  refused(await cli('merge', shard(0), at('knobs-1.json'), shard(2)), /knobs-1\.json and .*shard-0\.json: run under different knobs/);
  refused(await cli('merge', shard(0), shard(1)), /shard 2\/3 missing \(given: 0, 1\)/);
  refused(await cli('merge', shard(0), shard(1), shard(1)), /shard-1\.json and .*shard-1\.json are both shard 1\/3/);
  refused(await cli('merge', IMAGES[0]), /guest0\.img: not JSON/);
  // A result of the deal by hash alone (version 1) would not sum with these: its contents are dealt elsewhere.
  writeFileSync(at('v1-0.json'), JSON.stringify({ ...JSON.parse(readFileSync(shard(0), 'utf8')), version: 1 }));
  refused(await cli('merge', at('v1-0.json'), shard(1), shard(2)), /v1-0\.json: shard result version 1; this ksm-wasm reads version 2 \(run the --shard jobs again with this ksm-wasm\)$/);
  writeFileSync(at('cut.json'), readFileSync(shard(0), 'utf8').trimEnd().replace(/"scans":\[.*\]\}$/s, '"scans":[]}'));
  refused(await cli('merge', at('cut.json'), shard(1), shard(2)), /cut\.json: a shard result with missing or malformed fields/);
});

test('bad --shard and --threads', async () => {
  refused(await cli('estimate', '--from', at('fp.kfp'), '--shard', '3/2', '--json'), /--shard 3\/2: no shard 3 of 2/);
  refused(await cli('estimate', '--from', at('fp.kfp'), '--shard', 'two', '--json'), /--shard two: give I\/K/);
  refused(await cli('estimate', '--from', at('fp.kfp'), '--shard', '0/2'), /--shard prints a shard result .*add --json/);
  refused(await cli('estimate', '--shard', '0/2', '--json', ...IMAGES), /--shard I\/K needs --from FILE/);
  refused(await cli('estimate', ...IMAGES, '--threads', '0'), /--threads 0: must be from 1 to 256/);
  refused(await cli('estimate', ...IMAGES, '--threads', '2', '--advisor', 'scan-time'), /--threads 2: --advisor scan-time .* runs as one shard/);
  refused(await cli('estimate', ...IMAGES, '--threads', '3', '--policy', 'ksmtuned', '--host-memory', '64M'), /--threads 3: --policy ksmtuned .* runs as one shard/);
});

test.run();
