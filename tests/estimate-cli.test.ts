/**
 * `ksm-wasm estimate` refuses bad input the same way every time: one line on stderr naming the
 * input and the problem, exit status 2 (bad input or usage, src/cli/errors.ts), no stack trace,
 * and nothing written (no report file).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CliError } from '../src/cli/errors.js';
import { ENGINE_MEMORY_LIMIT, FINGERPRINT_MAX_PAGES } from '../src/cli/memory.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import { checkCap } from '../src/estimate/run.js';
import { ksmtunedRun } from '../src/estimate/verdict-runs.js';
import type { ImageSource } from '../src/estimate/source.js';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-cli-'));
const file = (name: string, bytes: Uint8Array | number) => {
  const path = join(dir, name);
  writeFileSync(path, typeof bytes === 'number' ? new Uint8Array(bytes) : bytes);
  return path;
};

interface Result { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** A 64-bit little-endian ELF header of the given type whose program headers run past the end of the file. */
function elfHeader({ type = 4, cls = 2, data = 1, phnum = 3 } = {}): Uint8Array {
  const h = new DataView(new ArrayBuffer(64));
  [0x7f, 0x45, 0x4c, 0x46, cls, data, 1].forEach((b, i) => h.setUint8(i, b));
  h.setUint16(16, type, true);
  h.setUint16(18, 62, true);
  h.setBigUint64(32, 64n, true);
  h.setUint16(52, 64, true);
  h.setUint16(54, 56, true);
  h.setUint16(56, phnum, true);
  return new Uint8Array(h.buffer);
}

const good = file('good.img', 8192);
mkdirSync(join(dir, 'adir'));
const cases: Array<[string, string[], number, RegExp]> = [
  ['a missing file', [join(dir, 'missing.img')], 2, /missing\.img: no such file/],
  ['a directory', [join(dir, 'adir')], 2, /adir: is a directory/],
  ['a size that is not a multiple of 4096', [file('odd.img', 5000)], 2, /odd\.img: size 5000 bytes is not a multiple of 4096/],
  ['an empty file', [file('empty.img', 0)], 2, /empty\.img: empty file/],
  ['a truncated ELF core', [file('trunc.core', elfHeader())], 2, /trunc\.core: truncated ELF core/],
  ['an ELF file that is not a core', [file('exec.elf', elfHeader({ type: 2, phnum: 0 }))], 2, /exec\.elf: ELF file of type ET_EXEC, not a core file/],
  ['a 32-bit ELF file', [file('c32.core', elfHeader({ cls: 1, phnum: 0 }))], 2, /c32\.core: 32-bit ELF file/],
  ['a big-endian ELF file', [file('be.core', elfHeader({ data: 2, phnum: 0 }))], 2, /be\.core: big-endian ELF file/],
  ['an ELF core shorter than its header', [file('tiny.core', elfHeader().slice(0, 20))], 2, /tiny\.core: truncated ELF file/],
  ['a non-ELF "core" of a bad size', [file('fake.core', new TextEncoder().encode('this is not a core file'))], 2, /fake\.core: size 23 bytes is not a multiple of 4096 \(not a raw image, and not an ELF core file\)/],
  ['a PID that does not exist', ['--pid', '2147483646'], 2, /pid 2147483646: no such process/],
  ['a PID that is not a number', ['--pid', 'abc'], 2, /--pid abc: not a process id/],
  ['an unknown flag', [good, '--frobnicate'], 2, /unknown option --frobnicate/],
  ['an unknown short flag', [good, '-x'], 2, /unknown option -x/],
  ['no input at all', ['--json'], 2, /nothing to scan/],
  ['max_page_sharing 1', [good, '--max-page-sharing', '1'], 2, /--max-page-sharing 1: the kernel refuses it .*max_page_sharing must be an integer from 2/],
  ['use_zero_pages 2', [good, '--use-zero-pages', '2'], 2, /--use-zero-pages 2: the kernel refuses it .*use_zero_pages takes 0 or 1/],
  ['smart_scan yes', [good, '--smart-scan', 'yes'], 2, /--smart-scan yes: not a decimal integer/],
  ['pages_to_scan 0', [good, '--pages-to-scan', '0'], 2, /--pages-to-scan 0: ksmd would never process a page/],
  ['an unknown advisor mode', [good, '--advisor', 'fast'], 2, /--advisor fast: the kernel refuses it/],
  ['pages_to_scan with the scan-time advisor', [good, '--advisor', 'scan-time', '--pages-to-scan', '500'], 2, /--pages-to-scan: cannot be set with --advisor scan-time/],
  ['an unknown scenario', ['--scenario', 'nope'], 2, /--scenario nope: no such scenario \(known: clones, mixed\)/],
  ['a knob given twice', [good, '--pages-to-scan', '5', '--pages-to-scan', '6'], 2, /--pages-to-scan is given 2 times/],
  ['a flag without its value', [good, '--max-scans'], 2, /--max-scans needs a value/],
  ['--max-scans 0', [good, '--max-scans', '0'], 2, /--max-scans 0: must be from 1/],
  ['a negative thread count', [good, '--threads', '-1'], 2, /--threads -1: negative values are not taken/],
  ['a negative size', ['--scenario', 'clones', '--size', '-1G'], 2, /--size -1G: negative values are not taken/],
  ['inputs larger than the memory cap', [file('big.img', 2 << 20), '--max-memory', '1'], 2, /more than the engine's memory cap of 1\.0 MiB \(raise it with --max-memory, at most 4\.0 GiB\)$/],
  ['a report in a directory that does not exist', [good, '--report', join(dir, 'no', 'such', 'dir', 'r.html')], 2, /--report .*r\.html: directory .* does not exist/],
  ['no command', [], 2, /no command given/],
];

const test = suite('estimate: bad input');
const reportOf = (what: string) => join(dir, `report-${what.replace(/\W+/g, '-')}.html`);

/** Every case runs at once (each is a node process): the tests below only wait for their own. */
const runs = pool(cases.map(([what, args]) => () => {
  const withReport = args.length === 0 || args.includes('--report') ? args : [...args, '--report', reportOf(what)];
  return cli(args.length === 0 ? [] : ['estimate', ...withReport]);
}), 6);

function pool<T>(jobs: Array<() => Promise<T>>, width: number): Array<Promise<T>> {
  const out: Array<Promise<T>> = [];
  const slots: Array<Promise<unknown>> = [];
  jobs.forEach((job, i) => {
    const start = i < width ? Promise.resolve() : slots[i - width];
    out[i] = start.then(job);
    slots[i] = out[i].catch(() => undefined);
  });
  return out;
}

cases.forEach(([what, args, status, message], i) => {
  test(`${what}: exit ${status}, one line on stderr, nothing written`, async () => {
    const r = await runs[i];
    assert.is(r.code, status, `exit status (stderr: ${r.stderr})`);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.is(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
    assert.match(lines[0], args.length === 0 ? /^ksm-wasm: / : /^ksm-wasm estimate: /);
    assert.match(lines[0], message);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    assert.is(r.stdout, '', 'nothing on stdout');
    assert.not.ok(existsSync(reportOf(what)), 'no report written');
  });
});

for (const [what, args, pattern] of [
  ['an unknown command', ['frobnicate'], /^ksm-wasm: unknown command "frobnicate"/],
  ['an unknown flag before any command', ['--frobnicate'], /^ksm-wasm: unknown option --frobnicate/],
  ['replay without its script', ['replay'], /^ksm-wasm replay: missing the SCRIPT\.json/],
  ['replay with a flag but no script', ['replay', '--images', 'dir'], /^ksm-wasm replay: missing the SCRIPT\.json/],
] as Array<[string, string[], RegExp]>) {
  test(`${what}: usage error, exit 2, one line`, async () => {
    const r = await cli(args);
    assert.is(r.code, 2);
    assert.match(r.stderr, pattern);
    assert.is(r.stderr.trim().split('\n').length, 1);
  });
}

test('inputs more than one engine can hold are refused by the memory rule before a page is read', () => {
  const image = (pages: number, i: number): ImageSource => ({ name: `guest${i}.img`, pages, read: () => { throw new Error('read'); } });
  const huge = Array.from({ length: 5 }, (_, i) => image(2 ** 18, i)); // 5 GiB in 1 GiB spaces (a space holds 2 GiB)
  const error = (() => { try { checkCap(huge, ENGINE_MEMORY_LIMIT); } catch (e) { return e; } })();
  assert.instance(error, CliError);
  assert.is((error as CliError).exitStatus, 2);
  assert.is((error as CliError).message, "the inputs hold 5.0 GiB of pages, 5.2 GiB with the engine's records: more than one engine can have (4.0 GiB, the limit of wasm32); --mode fingerprints holds them");
  assert.not.throws(() => checkCap(huge.slice(0, 1), ENGINE_MEMORY_LIMIT), '1 GiB fits');
  // The fingerprint engine holds them, up to its frame numbers.
  assert.not.throws(() => checkCap(huge, ENGINE_MEMORY_LIMIT, 'fingerprints'), '5 GiB fits the fingerprint engine');
  const sixtyFour = Array.from({ length: 32 }, (_, i) => image(2 ** 19, i));
  const tooMany = (() => { try { checkCap(sixtyFour, ENGINE_MEMORY_LIMIT, 'fingerprints'); } catch (e) { return e; } })();
  assert.instance(tooMany, CliError);
  assert.match((tooMany as CliError).message, /^the inputs hold 64\.0 GiB of pages \(16777216 pages\), more than one fingerprint engine holds \(16777197 pages.*; estimate fewer inputs at a time$/);
  // Inputs kept to one engine (content shards would hold them) say what keeps them there.
  const tied = (() => { try { checkCap(sixtyFour, ENGINE_MEMORY_LIMIT, 'fingerprints', 'guest0.img has transparent huge pages, so the inputs run as one shard'); } catch (e) { return e; } })();
  assert.match((tied as CliError).message, /\); guest0\.img has transparent huge pages, so the inputs run as one shard: estimate fewer inputs at a time$/);
  // One space holds 2 GiB, whatever the engine.
  const wide = (() => { try { checkCap([image(2 ** 19 + 1, 0)], ENGINE_MEMORY_LIMIT, 'fingerprints'); } catch (e) { return e; } })();
  assert.match((wide as CliError).message, /^guest0\.img: 2\.0 GiB of address space, more than one space of the engine holds/);
});

test('the verdict leaves ksmtuned out, before a page is read, for inputs more than one engine holds', async () => {
  const image = (pages: number, i: number): ImageSource => ({ name: `guest${i}.img`, pages, read: () => { throw new Error('read'); } });
  const settings = { engine: 'fingerprints' as const, knobs: ESTIMATE_KNOB_DEFAULTS, stableScans: 3 };
  const sixtyFour = Array.from({ length: 32 }, (_, i) => image(2 ** 19, i));
  const skipped = await ksmtunedRun(sixtyFour, settings, 2 ** 37, ENGINE_MEMORY_LIMIT, undefined, 2);
  assert.equal(skipped, { skipped: 'the inputs hold 64.0 GiB of pages (16777216 pages), more than one fingerprint engine holds (16777197 pages, 64.0 GiB of pages)' });
  // As many pages as one engine holds: it is tried (and reads).
  const fits = [...sixtyFour.slice(0, 31), image(FINGERPRINT_MAX_PAGES - 31 * 2 ** 19, 31)];
  await ksmtunedRun(fits, settings, 2 ** 37, ENGINE_MEMORY_LIMIT, undefined, 2).then(() => assert.unreachable('it read'), (e: Error) => assert.is(e.message, 'read'));
});

test('a good input still works (the cases above fail for their own reason)', async () => {
  const report = join(dir, 'ok.html');
  const r = await cli(['estimate', good, '--report', report]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /ksm-wasm estimate: 1 address space, 2 pages/);
  assert.ok(existsSync(report));
});

test('a run cut short by --max-scans says so in its time table too: times to the last change, not "settled"', async () => {
  const r = await cli(['estimate', '--scenario', 'clones', '--size', '4M', '--max-scans', '2']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Not converged after 2 full scans/m);
  const times = r.stdout.split('\n').filter((line) => /pages \/ \d+ ms +(settled|last change) /.test(line));
  assert.ok(times.length > 0, 'the time table is there');
  for (const line of times) {
    assert.match(line, /last change .* ksmd CPU to last change .*, last scan .* of a core$/);
    assert.not.match(line, /settle|steady/);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
