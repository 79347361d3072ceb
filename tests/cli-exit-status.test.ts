/**
 * The exit statuses of every `ksm-wasm` command (src/cli/errors.ts): 0 done (an estimate that did
 * not settle within --max-scans too), 1 a check failed, 2 bad input or usage, 70 an internal
 * error; each refusal one line on stderr, and the convention written in --help.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KsmError } from '../src/errors.js';
import { CliError } from '../src/cli/errors.js';
import { COMMANDS, reportError, runCli, type CliIO, type Command } from '../src/cli/main.js';
import { CLI, runNode, type Result } from './helpers/run-cli.js';

const FIXTURES = new URL('./fixtures/oracle-dynamic/scripts/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-exit-'));

const cli = (args: string[]): Promise<Result> => runNode([CLI, ...args]);

/** An in-process IO that keeps what was written. */
function memoryIO(env: Record<string, string> = {}): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => { out += t; }, err: (t) => { err += t; }, env, stdout: () => out, stderr: () => err };
}

const image = join(dir, 'two-pages.img');
writeFileSync(image, new Uint8Array(8192).fill(7));
const failing = join(dir, 'failing.json');
const script = JSON.parse(readFileSync(join(FIXTURES, '01_cow_break.json'), 'utf8'));
script.steps[2].expect.pages_sharing = 3; // the kernel shows 2 after the revisit
writeFileSync(failing, JSON.stringify(script));

const test = suite('exit statuses');

test('0: an estimate that does not settle within --max-scans is done: it says so, and settled_at_full_scan is null', async () => {
  const r = await cli(['estimate', image, '--max-scans', '2', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).converged.settled_at_full_scan, null);
  assert.is(r.stderr, 'ksm-wasm estimate: the merge state did not settle within --max-scans 2 (last change after full scan 2)\n');
  const settled = await cli(['estimate', image, '--json']);
  assert.is(settled.code, 0, settled.stderr);
  assert.is(JSON.parse(settled.stdout).converged.settled_at_full_scan, 2, 'and a number when it settled: the two equal pages merge in full scan 2');
  assert.is(settled.stderr, '');
});

test('1: a replay expectation not met', async () => {
  const r = await cli(['replay', failing]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stdout, /EXPECTATION FAILED \(1\/6\): pages_sharing: expected 3, got 2\n/);
  assert.is(r.stderr, '');
  const json = await cli(['replay', failing, '--json']);
  assert.is(json.code, 1);
  assert.equal(JSON.parse(json.stdout).expectations, { total: 46, failed: 1 });
  assert.match(json.stderr, /expectations 45\/46 ok/, 'with --json, the summary goes to stderr');
});

const badInput: Array<[string, string[], RegExp]> = [
  ['estimate: a missing file', ['estimate', join(dir, 'missing.img')], /^ksm-wasm estimate: .*missing\.img: no such file or directory \(ENOENT\)$/],
  ['estimate: an unknown flag', ['estimate', image, '--frobnicate'], /^ksm-wasm estimate: unknown option --frobnicate \(see ksm-wasm estimate --help\)$/],
  ['estimate: a bad knob value', ['estimate', image, '--use-zero-pages', '2'], /^ksm-wasm estimate: --use-zero-pages 2: the kernel refuses it \(EINVAL: /],
  ['estimate: a PID that cannot be read', ['estimate', '--pid', '2147483646'], /^ksm-wasm estimate: pid 2147483646: no such process$/],
  ['replay: a missing script', ['replay', join(dir, 'nope.json')], /^ksm-wasm replay: .*nope\.json: cannot read the script \(ENOENT: no such file or directory\)$/],
  ['replay: a script that is not JSON', ['replay', image], /^ksm-wasm replay: .*two-pages\.img: not JSON: /],
  ['replay: an unknown flag', ['replay', failing, '--frobnicate'], /^ksm-wasm replay: unknown option --frobnicate \(see ksm-wasm replay --help\)$/],
  ['replay: a bad engine', ['replay', failing, '--engine', 'native'], /^ksm-wasm replay: --engine must be "wasm" or "reference", got "native"/],
  ['replay: an image directory that is not there', ['replay', failing, '--images', join(dir, 'no-such-dir')], /^ksm-wasm replay: .*failing\.json: --images .*no-such-dir: not a directory$/],
  ['no command', [], /^ksm-wasm: no command given \(estimate, fingerprint, merge, replay, calibrate\) \(see ksm-wasm --help\)$/],
];

for (const [what, args, message] of badInput) {
  test(`2: ${what}: one line on stderr, nothing on stdout`, async () => {
    const r = await cli(args);
    assert.is(r.code, 2, r.stderr);
    assert.is(r.stdout, '');
    const lines = r.stderr.split('\n');
    assert.is(lines.length, 2, `one line: ${r.stderr}`);
    assert.match(lines[0], message);
  });
}

test('70: anything a command did not mean to throw is an internal error: one line, the stack only with KSM_WASM_DEBUG=1', async () => {
  const boom: Command = { name: 'boom', register: (prog) => { prog.command('boom').action(() => { (undefined as unknown as { x: number }).x; }); } };
  const plain = memoryIO();
  assert.is(await runCli(['node', 'ksm-wasm', 'boom'], plain, [...COMMANDS, boom]), 70);
  assert.match(plain.stderr(), /^ksm-wasm boom: internal error \(a bug in ksm-wasm, not a problem with the input\): TypeError: .*; please report it .* \(KSM_WASM_DEBUG=1 prints the stack\)\n$/);
  const debug = memoryIO({ KSM_WASM_DEBUG: '1' });
  assert.is(await runCli(['node', 'ksm-wasm', 'boom'], debug, [...COMMANDS, boom]), 70);
  const lines = debug.stderr().trimEnd().split('\n');
  assert.match(lines[0], /^ksm-wasm boom: internal error .*TypeError/);
  assert.match(lines[1], /^TypeError: /);
  assert.match(lines[2], /^\s+at /, 'the stack follows');
});

test('the statuses come from the error, whichever command throws it', async () => {
  const io = memoryIO();
  const throwing = (error: unknown): Command => ({ name: 'x', register: (prog) => { prog.command('x').action(() => { throw error; }); } });
  assert.is(await runCli(['node', 'ksm-wasm', 'x'], io, [throwing(new CliError('check', 'shards disagree'))]), 1);
  assert.is(await runCli(['node', 'ksm-wasm', 'x'], io, [throwing(new CliError('input', 'bad file'))]), 2);
  assert.is(await runCli(['node', 'ksm-wasm', 'x'], io, [throwing(new CliError('usage', 'bad flag'))]), 2);
  assert.is(io.stderr(), 'ksm-wasm x: shards disagree\nksm-wasm x: bad file\nksm-wasm x: bad flag (see ksm-wasm x --help)\n');
});

test('a library refusal is printed with its code once: "code: message"', () => {
  const error = new KsmError('EINVAL', 'max_page_sharing must be an integer from 2');
  // The library's message no longer repeats the code (KsmError's message is only the message).
  Object.defineProperty(error, 'message', { value: 'max_page_sharing must be an integer from 2' });
  const io = memoryIO();
  assert.is(reportError(error, 'estimate', io), 2);
  assert.is(io.stderr(), 'ksm-wasm estimate: EINVAL: max_page_sharing must be an integer from 2\n');
});

for (const args of [['--help'], ['estimate', '--help'], ['replay', '--help']]) {
  test(`ksm-wasm ${args.join(' ')} documents the convention`, async () => {
    const r = await cli(args);
    assert.is(r.code, 0, r.stderr);
    for (const part of ['Exit status: 0 done', 'did not settle within --max-scans', '1 a check failed', '2 bad input or usage', '70 internal error']) {
      assert.ok(r.stdout.includes(part), `"${part}" in:\n${r.stdout}`);
    }
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
