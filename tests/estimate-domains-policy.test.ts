/**
 * `ksm-wasm estimate` with sharing domains (--domain, --domain-map: the summary row of one domain,
 * per-tenant and per-space savings) and with a policy (--policy ksmtuned --host-memory SIZE), and
 * their bad input: one line on stderr, exit status 2, nothing on stdout.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-domains-'));

interface Result { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, 'estimate', ...args], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

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

for (const [label, args, message] of [
  ['unknown policy', ['--scenario', 'clones', '--policy', 'mom', '--host-memory', '1G'], /--policy mom: no such policy \(known: ksmtuned/],
  ['policy without host memory', ['--scenario', 'clones', '--policy', 'ksmtuned'], /--policy ksmtuned needs --host-memory/],
  ['host memory smaller than the inputs', ['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '32M'], /--host-memory 32\.0 MiB: smaller than the inputs \(64\.0 MiB of pages\)/],
  ['host memory not a size', ['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', 'lots'], /--host-memory lots: not a size/],
  ['policy with pages_to_scan', ['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '1G', '--pages-to-scan', '500'], /--pages-to-scan: cannot be set with --policy ksmtuned/],
  ['policy with the advisor', ['--scenario', 'clones', '--policy', 'ksmtuned', '--host-memory', '1G', '--advisor', 'scan-time'], /--advisor scan-time: cannot run with --policy ksmtuned/],
  ['mapping without =', ['--scenario', 'clones', '--domain', 'acme'], /--domain acme: no "=" \(expected NAME=INPUT/],
  ['mapping with no name', ['--scenario', 'clones', '--domain', '=clones/guest0'], /the domain has no name/],
  ['mapping of an unknown input', ['--scenario', 'clones', '--domain', 'acme=clones/guest9'], /--domain acme=clones\/guest9: no input is named clones\/guest9/],
  ['an input in two domains', ['--scenario', 'clones', '--domain', 'a=clones/guest0', '--domain', 'b=clones/*'], /input clones\/guest0 is in domain a already/],
  ['the default domain named', ['--scenario', 'clones', '--domain', 'default=clones/guest0'], /"default" is the domain of inputs no mapping names/],
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

test.run();
