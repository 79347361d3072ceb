/**
 * `ksm-wasm estimate` with sharing domains (--domain, --domain-map: the summary row of one domain,
 * per-tenant and per-space savings) and with a policy (--policy ksmtuned --host-memory SIZE), and
 * their bad input: one line on stderr, exit status 2, nothing on stdout.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveDomains } from '../src/estimate/domains.js';
import type { ImageSource } from '../src/estimate/source.js';
import { CLI, runNode, type Result } from './helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-domains-'));

const cli = (args: string[]): Promise<Result> => runNode([CLI, 'estimate', ...args], 120_000);

/** Four 2-page images: a and b hold the same two pages, c holds them too, d one of them. */
function images(): string[] {
  const page = (byte: number) => new Uint8Array(4096).fill(byte);
  const write = (name: string, pages: Uint8Array[]) => {
    const path = join(dir, name);
    const out = new Uint8Array(pages.length * 4096);
    pages.forEach((p, i) => out.set(p, i * 4096));
    writeFileSync(path, out);
    return path;
  };
  return [write('a.img', [page(1), page(2)]), write('b.img', [page(1), page(2)]), write('c.img', [page(1), page(2)]), write('d.img', [page(1), page(9)])];
}

const test = suite('estimate: sharing domains and policies');

test('--domain: the table is the mapping\'s, and the summary row puts one domain, per tenant and per space side by side', async () => {
  const [a, b, c, d] = images();
  const r = await cli([a, b, c, d, '--domain', `t1=${a},${b}`, '--domain', `t2=${c}`, '--json']);
  assert.is(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  // One domain: page 1 in 4 spaces, page 2 in 3: 3 + 2 sharing. t1 {a,b}, t2 {c}, default {d}: 1 + 1. Per space: nothing.
  assert.equal(json.domains, { one_domain_saved_bytes: 5 * 4096, per_tenant_saved_bytes: 2 * 4096, per_space_saved_bytes: 0, tenants: 3, spaces: 4 });
  assert.is(json.converged.pages_sharing, 2, 'the main run is the mapping\'s');
  const text = await cli([a, b, c, d, '--domain', `t1=${a},${b}`, '--domain', `t2=${c}`]);
  assert.match(text.stdout, /one domain\s+20\.0 KiB saved/);
  assert.match(text.stdout, /per tenant \(3 domains\)\s+8\.0 KiB saved \(40\.0% of one domain's\)/);
  assert.match(text.stdout, /per space \(4 domains\)\s+0 B saved/);
});

test('--domain-map FILE: the same mappings, one a line, with comments', async () => {
  const [a, b, c, d] = images();
  const map = join(dir, 'tenants.map');
  writeFileSync(map, `# tenants\nt1=${a},${b}\n\nt2=${join(dir, 'c')}*  # a prefix\n`);
  const r = await cli([a, b, c, d, '--domain-map', map, '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).domains.per_tenant_saved_bytes, 2 * 4096);
});

test('--policy ksmtuned --host-memory: ksmtuned starts ksmd on a host short of memory and the savings follow', async () => {
  const r = await cli(['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '72M', '--json']);
  assert.is(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.is(json.policy, 'ksmtuned');
  assert.is(json.thres_kb, Math.floor((72 * 1024 * 20) / 100));
  assert.is(json.sleep_millisecs, Math.floor((10 * 16 * 1024 * 1024) / (72 * 1024)));
  assert.is(json.started_at_ms, 60000, 'committed 64 MiB + thres > 72 MiB: started at the first decision');
  assert.is(json.intervals[0].reason, 'boost', 'free 8 MiB < thres 14.4 MiB');
  const last = json.intervals[json.intervals.length - 1];
  assert.ok(json.settled);
  assert.is(last.pages_sharing, 11873, 'the clones settle where fixed knobs settle them');
  assert.is(last.pages_to_scan, 64, 'memory no longer short: decayed to KSM_NPAGES_MIN');
  const text = await cli(['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '72M']);
  assert.match(text.stdout, /ksmtuned started ksmd after 60\.0 s; the savings reached 46\.4 MiB of 64\.0 MiB/);
});

test('--policy ksmtuned on a roomy host: ksmd never starts, and it says why', async () => {
  const r = await cli(['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '1G']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /ksmtuned never started ksmd: at every decision committed \+ thres < MemTotal and free > thres/);
});

test('the verdict: defaults, ksmtuned, the fastest knobs under the CPU cap, domains, and its thresholds', async () => {
  const r = await cli(['--scenario', 'clones']);
  assert.is(r.code, 0, r.stderr);
  const verdict = r.stdout.slice(r.stdout.indexOf('Verdict:'));
  // The defaults' time is the table's own figure for these knobs (the kernel clock of docs/clock.md).
  const settled = /these knobs\s+100 pages \/ 20 ms\s+settled\s+([\d.]+ m?s)/.exec(r.stdout)?.[1];
  assert.ok(settled, r.stdout);
  assert.ok(verdict.includes(`kernel defaults (run=0 saves nothing; with run=1: 100 pages / 20 ms): 46.4 MiB (72.5%) saved after ${settled};`), verdict);
  assert.match(verdict, /ksmtuned \(host 80\.0 MiB: the inputs \+ 25%, set it with --host-memory\): 46\.4 MiB \(72\.5%\) saved after/);
  const fastest = /fastest under 10\.0% of a core: pages_to_scan (\d+) \/ 20 ms: 46\.4 MiB \(72\.5%\) saved after .*; ksmd ~([\d.]+)% of a core while settling, ~([\d.]+)% after/.exec(verdict);
  assert.ok(fastest, verdict);
  assert.ok(Number(fastest[2]) <= 10 && Number(fastest[3]) <= 10, 'under the cap');
  assert.ok(Number(fastest[1]) > 100, 'faster than the defaults');
  assert.match(verdict, /a domain per input \(8; no --domain given\): 6\.4 MiB saved, 40\.0 MiB \(86\.3%\) less than one domain/);
  assert.match(verdict, new RegExp(`So: turn KSM on \\(run=1\\) with pages_to_scan ${fastest[1]}`));
  assert.match(verdict, /Thresholds: CPU cap 10\.0% of one core \(--cpu-cap\).*worth running if it saves at least 1\.0% of the inputs' memory/);
  const wider = await cli(['--scenario', 'clones', '--cpu-cap', '50', '--host-memory', '1G']);
  const pts = Number(/fastest under 50\.0% of a core: pages_to_scan (\d+)/.exec(wider.stdout)?.[1]);
  assert.ok(pts > Number(fastest[1]), 'a higher cap allows a faster pace');
  assert.match(wider.stdout, /ksmtuned \(host 1\.0 GiB\): never starts ksmd/);
  const none = await cli(['--scenario', 'clones', '--no-verdict']);
  assert.not.match(none.stdout, /Verdict:/);
});

test('the verdict on inputs with nothing to merge: not worth running', async () => {
  const path = join(dir, 'unique.img');
  const out = new Uint8Array(8 * 4096);
  for (let i = 0; i < out.length; i += 4) out[i] = (i * 2654435761) >>> 24, out[i + 1] = i >>> 12;
  writeFileSync(path, out);
  const r = await cli([path]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /So: KSM is not worth running on these inputs: it saves 0 B, under 1\.0% of their 32\.0 KiB; leave run=0\./);
});

for (const [label, args, message] of [
  ['unknown policy', ['--scenario', 'clones', '--policy', 'mom', '--host-memory', '1G'], /--policy mom: no such policy \(known: ksmtuned/],
  ['policy without host memory', ['--scenario', 'clones', '--policy', 'ksmtuned'], /--policy ksmtuned needs --host-memory/],
  ['host memory smaller than the inputs', ['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '32M'], /--host-memory 32\.0 MiB: smaller than the inputs \(64\.0 MiB of pages\)/],
  // Large enough that reading it says so on stderr: the refusal comes first, alone.
  ['the verdict host memory smaller than the inputs, refused before the estimate', ['--scenario', 'clones', '--size', '2G', '--host-memory', '1G'], /--host-memory 1\.0 GiB: smaller than the inputs \(2\.0 GiB of pages\)/],
  ['host memory not a size', ['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', 'lots'], /--host-memory lots: not a size/],
  ['policy with pages_to_scan', ['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '1G', '--pages-to-scan', '500'], /--pages-to-scan: cannot be set with --policy ksmtuned/],
  ['policy with the advisor', ['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '1G', '--advisor', 'scan-time'], /--advisor scan-time: cannot run with --policy ksmtuned/],
  ['mapping without =', ['--scenario', 'clones', '--domain', 'acme'], /--domain acme: no "=" \(expected NAME=INPUT/],
  ['mapping with no name', ['--scenario', 'clones', '--domain', '=clones/guest0'], /the domain has no name/],
  ['mapping of an unknown input', ['--scenario', 'clones', '--domain', 'acme=clones/guest9'], /--domain acme=clones\/guest9: no input is named clones\/guest9/],
  ['an input in two domains', ['--scenario', 'clones', '--domain', 'a=clones/guest0', '--domain', 'b=clones/*'], /input clones\/guest0 is in domain a already/],
  ['the default domain named', ['--scenario', 'clones', '--domain', 'default=clones/guest0'], /"default" is the domain of inputs no mapping names/],
  ['a bad CPU cap', ['--scenario', 'clones', '--cpu-cap', '0'], /--cpu-cap 0: a percentage of one core, above 0 and at most 100/],
  ['a missing map file', ['--scenario', 'clones', '--domain-map', '/nonexistent/map'], /--domain-map \/nonexistent\/map: no such file/],
] as const) {
  test(`bad input: ${label}`, async () => {
    const r = await cli([...args]);
    assert.is(r.code, 2, `${label}: exit status 2, got ${r.code}: ${r.stderr}`);
    assert.is(r.stdout, '', 'nothing on stdout');
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0], message);
  });
}

test('bad input: a malformed line of a map file names the file and the line', async () => {
  const map = join(dir, 'bad.map');
  writeFileSync(map, 'acme=clones/guest0\nglobex clones/guest1\n');
  const r = await cli(['--scenario', 'clones', '--domain-map', map]);
  assert.is(r.code, 2);
  assert.match(r.stderr, new RegExp(`--domain-map ${map}:2: globex clones/guest1: no "="`));
});

test('a fork (a live process after fork()) stays in its parent\'s domain; a mapping that moves it is refused', () => {
  const source = (name: string, forkOf?: ImageSource): ImageSource => ({ name, pages: 1, forkOf, read: () => undefined });
  const parent = source('pid 10');
  const child = source('pid 11', parent);
  const other = source('pid 12');
  const mapping = (name: string, inputs: string[]) => ({ name, inputs, from: '--domain' });
  assert.equal(resolveDomains([mapping('a', ['pid 10'])], [parent, child, other]), ['a', 'a', undefined]);
  assert.equal(resolveDomains([mapping('a', ['pid 10', 'pid 11'])], [parent, child, other]), ['a', 'a', undefined]);
  assert.throws(() => resolveDomains([mapping('a', ['pid 10']), mapping('b', ['pid 11'])], [parent, child, other]),
    (e: Error) => /input pid 11 is a fork of pid 10, and a fork stays in its parent's domain \(a\)/.test(e.message));
});

test.run();
