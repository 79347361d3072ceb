/**
 * `ksm-wasm replay`: page specs (gen.py's bytes), script checking, the command's output and exit
 * status. Bad input gets one line on stderr naming the step and the problem, exit status 2, and
 * nothing is replayed (no output on stdout). The command runs in this process, under the CLI's
 * own top level (src/cli/main.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blake2bHex } from '../src/replay/blake2b.js';
import { CliError } from '../src/cli/errors.js';
import { runCli } from '../src/cli/main.js';
import { replay } from '../src/replay/runner.js';
import { parseScript } from '../src/replay/script.js';
import { expandPages, PageContent } from '../src/pagespec.js';


const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const FIXTURES = join(HERE, 'fixtures/oracle-dynamic');
const dir = mkdtempSync(join(tmpdir(), 'ksm-replay-'));
let n = 0;
const scriptFile = (content: unknown): string => {
  const path = join(dir, `s${n++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

/** `ksm-wasm replay PATH [flags]`, in this process. */
async function run(path: string, options: { images?: string; json?: boolean; engine?: string } = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const flags = [
    ...(options.images === undefined ? [] : ['--images', options.images]),
    ...(options.json ? ['--json'] : []),
    ...(options.engine === undefined ? [] : ['--engine', options.engine]),
  ];
  const io = { out: (t: string) => { out += t; }, err: (t: string) => { err += t; }, env: {} };
  const code = await runCli(['node', 'ksm-wasm', 'replay', path, ...flags], io);
  return { code, out, err };
}

const GUESTS = [{ pages: ['r:X', 'r:Y'] }, { pages: ['r:X', 'r:Y', 'Z'] }];

// ---------------------------------------------------------------------------------------------
const specs = suite('replay: page specs are gen.py\'s bytes');

specs('digests computed by the oracle\'s gen.py + hashlib.blake2b(digest_size=8)', () => {
  // python3 -c 'import gen, hashlib; c = gen.Content(1); print(hashlib.blake2b(c.page(S), digest_size=8).hexdigest())'
  const content = new PageContent(1);
  const known: Record<string, string> = {
    Z: 'e218cb050e9903ac', 'r:X': 'c84940094d47b863', 'r:N1': 'e341872ae27ef0ee', 'p:5': '7df11921cb0c8c7d', 'f:255': '9a02bf35e1933007',
  };
  for (const [spec, digest] of Object.entries(known)) assert.is(blake2bHex(content.page(spec)), digest, spec);
});

specs('BLAKE2b-64 known answers (hashlib)', () => {
  assert.is(blake2bHex(new Uint8Array(0)), 'e4a6a0577479b2b4');
  assert.is(blake2bHex(new TextEncoder().encode('abc')), 'd8bb14d833d59559');
});

specs('SPEC*N expands to N copies; the seed changes r: and p: pages, not Z or f:', () => {
  assert.equal(expandPages(['r:X*3', 'Z', 'f:1*0', 'r:a*b']), ['r:X', 'r:X', 'r:X', 'Z', 'r:a*b']);
  const [one, two] = [new PageContent(1), new PageContent(2)];
  assert.not.equal(one.page('r:X'), two.page('r:X'));
  assert.not.equal(one.page('p:1'), two.page('p:1'));
  assert.equal(one.page('f:7'), two.page('f:7'));
  assert.equal(one.page('p:1').subarray(0, 4088), one.page('p:2').subarray(0, 4088));
  assert.equal([...one.page('p:258').subarray(4088)], [0, 0, 0, 0, 0, 0, 1, 2]);
});

specs.run();

// ---------------------------------------------------------------------------------------------
const bad = suite('replay: bad input is refused before anything runs');

const refusals: [string, unknown, RegExp][] = [
  ['not JSON', '{"guests": [', /^ksm-wasm replay: .*: not JSON: /],
  ['not an object', '[1, 2]', /: the script must be a JSON object$/],
  ['no steps', { guests: GUESTS }, /: steps must be an array$/],
  ['unknown op', { guests: GUESTS, steps: [{ scan: 1 }, { op: 'frobnicate', guest: 0 }] }, /: step 1: unknown op "frobnicate" \(write, /],
  ['two kinds in one step', { guests: GUESTS, steps: [{ scan: 1, op: 'exit', guest: 0 }] }, /: step 0: a step needs exactly one of "scan", "batch" or "op" \(got scan and op\)$/],
  ['guest out of range', { guests: GUESTS, steps: [{ op: 'write', guest: 2, page: 0, content: 'Z' }] }, /: step 0: write: guest 2 does not exist \(2 guests so far\)$/],
  ['page out of range', { guests: GUESTS, steps: [{ scan: 2 }, { op: 'write', guest: 0, page: 2, content: 'Z' }] }, /: step 1: write: page 2 is outside guest 0's 2 pages \(0\.\.1\)$/],
  ['range out of range', { guests: GUESTS, steps: [{ op: 'unmergeable', guest: 1, first: 1, count: 3 }] }, /: step 0: unmergeable: pages 1\.\.3 are outside guest 1's 3 pages \(0\.\.2\)$/],
  ['op on an exited guest', { guests: GUESTS, steps: [{ op: 'exit', guest: 0 }, { scan: 1 }, { op: 'fork', guest: 0 }] }, /: step 2: fork: guest 0 has exited$/],
  ['op on a forked guest that exited', { guests: GUESTS, steps: [{ op: 'fork', guest: 1 }, { op: 'exit', guest: 2 }, { op: 'dontneed', guest: 2, first: 0, count: 1 }] }, /: step 2: dontneed: guest 2 has exited$/],
  ['a page that was unmapped', { guests: GUESTS, steps: [{ op: 'munmap', guest: 1, first: 1, count: 1 }, { op: 'write_byte', guest: 1, page: 1, offset: 0, value: 1 }] }, /: step 1: write_byte: page 1 of guest 1 was unmapped \(munmap\)$/],
  ['"same" on a dropped page', { guests: GUESTS, steps: [{ op: 'dontneed', guest: 0, first: 0, count: 2 }, { op: 'write', guest: 0, page: 1, content: 'same' }] }, /: step 1: write: "same" on page 1 of guest 0, which is not present \(dontneed\)$/],
  ['bad page spec in a guest', { guests: [{ pages: ['r:X', 'q:1'] }], steps: [] }, /: guests\[0\] page 1: bad page spec "q:1" /],
  ['bad fill byte', { guests: [{ pages: ['f:256'] }], steps: [] }, /: guests\[0\] page 0: bad page spec "f:256": f:<byte> takes 0\.\.255$/],
  ['bad write content', { guests: GUESTS, steps: [{ op: 'write', guest: 0, page: 0, content: 'X' }] }, /: step 0: write: bad page spec "X" /],
  ['write_byte offset', { guests: GUESTS, steps: [{ op: 'write_byte', guest: 0, page: 0, offset: 4096, value: 1 }] }, /: step 0: write_byte: "offset" must be an integer from 0 to 4095, got 4096$/],
  ['unknown expect key', { guests: GUESTS, steps: [{ scan: 1, expect: { pages_shard: 1 } }] }, /: step 0: expect: unknown expect key "pages_shard"$/],
  ['unknown guest field', { guests: GUESTS, steps: [{ scan: 1, expect: { 'g0.mapp': 'A' } }] }, /: step 0: expect: g0\.mapp: unknown guest field "mapp" /],
  ['unknown knob op', { guests: GUESTS, steps: [{ op: 'knob', name: 'pages_to_scann', value: 1 }] }, /: step 0: knob: "pages_to_scann" is not a writable knob /],
  ['a counter is not a knob', { guests: GUESTS, steps: [{ op: 'knob', name: 'full_scans', value: 0 }] }, /: step 0: knob: "full_scans" is not a writable knob /],
  ['sleep_millisecs is the oracle\'s clock', { guests: GUESTS, steps: [{ op: 'knob', name: 'sleep_millisecs', value: 5 }] }, /: step 0: knob: sleep_millisecs is the oracle's stepping clock/],
  ['header knob value', { knobs: { max_page_sharing: 1 }, guests: GUESTS, steps: [] }, /: knobs: max_page_sharing=1 refused: EINVAL: /],
  ['run in the header', { knobs: { run: 1 }, guests: GUESTS, steps: [] }, /: knobs: run is set by the steps/],
  ['merge_any value', { guests: GUESTS, steps: [{ op: 'merge_any', guest: 0, value: 2 }] }, /: step 0: merge_any: "value" must be an integer from 0 to 1, got 2$/],
  ['no guests', { steps: [{ scan: 1 }] }, /: the script has no guests \(and no --images were given\)$/],
];

for (const [what, content, message] of refusals) {
  bad(what, async () => {
    const { code, out, err } = await run(scriptFile(content));
    assert.is(code, 2, 'exit status 2');
    assert.is(out, '', 'nothing on stdout: nothing was replayed');
    assert.is(err.split('\n').length, 2, `one line on stderr: ${err}`);
    assert.match(err.trimEnd(), message);
  });
}

bad('a missing script, a missing image directory, a bad engine', async () => {
  let r = await run(join(dir, 'nope.json'));
  assert.is(r.code, 2);
  assert.match(r.err, /nope\.json: cannot read the script \(ENOENT: no such file or directory\)\n$/);
  r = await run(join(FIXTURES, 'scripts/90_images_smoke.json'), { images: join(dir, 'no-such-dir') });
  assert.is(r.code, 2);
  assert.match(r.err, /--images .*no-such-dir: not a directory\n$/);
  r = await run(scriptFile({ guests: GUESTS, steps: [] }), { engine: 'native' });
  assert.is(r.code, 2);
  assert.match(r.err, /--engine must be "wasm" or "reference", got "native" \(see ksm-wasm replay --help\)\n$/);
});

bad('the API throws an input CliError naming the step', () => {
  const error = (() => { try { parseScript('{"steps": [{"op": "nope"}]}'); } catch (e) { return e; } })();
  assert.instance(error, CliError);
  assert.is((error as CliError).kind, 'input');
  assert.match((error as CliError).message, /^step 0: unknown op "nope"/);
});

bad('through the real process: exit status 2, one line on stderr, no stack trace', () => {
  const path = scriptFile({ guests: GUESTS, steps: [{ scan: 2 }, { op: 'write', guest: 5, page: 0, content: 'Z' }] });
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'replay', path], { cwd: ROOT, encoding: 'utf8' });
  assert.is(child.status, 2);
  assert.is(child.stdout, '');
  assert.is(child.stderr, `ksm-wasm replay: ${path}: step 1: write: guest 5 does not exist (2 guests so far)\n`);
});

bad.run();

// ---------------------------------------------------------------------------------------------
const cmd = suite('replay: output and exit status');

cmd('a script whose expectations hold: exit 0, a line per snapshot, a summary', async () => {
  const { code, out, err } = await run(join(FIXTURES, 'scripts/01_cow_break.json'));
  assert.is(code, 0);
  assert.is(err, '');
  const lines = out.trimEnd().split('\n');
  assert.is(lines[0], 'replay 01_cow_break: 3 guests, 7 steps (engine wasm)');
  assert.ok(lines.includes('  -> {"digest":"e341872ae27ef0ee"}'), 'the write op reports the page digest the kernel run recorded');
  assert.is(lines.at(-1), '01_cow_break: 7 steps; expectations 46/46 ok; contents ok (engine wasm)');
});

cmd('a failed expectation: exit 1, reported with expected and actual values', async () => {
  const script = JSON.parse(readFileSync(join(FIXTURES, 'scripts/01_cow_break.json'), 'utf8'));
  script.steps[2].expect.pages_sharing = 3; // the kernel shows 2 after the revisit
  const { code, out } = await run(scriptFile(script));
  assert.is(code, 1);
  assert.match(out, /EXPECTATION FAILED \(1\/6\): pages_sharing: expected 3, got 2\n/);
  assert.match(out, /expectations 45\/46 ok/);
});

cmd('--json: the oracle\'s result shape, comparable key by key', async () => {
  const { code, out } = await run(join(FIXTURES, 'scripts/11_knob_ebusy.json'), { json: true });
  assert.is(code, 0);
  const result = JSON.parse(out);
  assert.is(result.format, 'ksm-script-result/1');
  assert.equal(Object.keys(result.snapshot0).sort(), ['guests', 'ksm', 'rmap_items', 'rmap_items_live_sum', 'vm']);
  assert.equal(result.steps[1].result, { ok: true, error: 'EBUSY', before: 256, after: 256 }, 'a refused knob write is recorded as its errno name');
  assert.is(result.steps[3].result.error, 'EINVAL');
  assert.is(result.steps[10].batches_during_op, 1, 'run=1 to a stopped ksmd runs a batch at once');
  assert.equal(result.expectations, { total: 17, failed: 0 });
});

cmd('a read of a dropped page maps the zero page (map "0"), as a read fault does', async () => {
  // Not in the kernel's recorded scripts: README "map": '0' is the zero page of a read fault; '-' nothing mapped.
  const script = parseScript(JSON.stringify({
    guests: [{ pages: ['r:X', 'r:Y'] }],
    steps: [
      { op: 'dontneed', guest: 0, first: 0, count: 2, expect: { 'g0.map': '--' } },
      { op: 'read', guest: 0, page: 1, expect: { 'g0.map': '-0' } },
      { op: 'fork', guest: 0, expect: { 'g1.map': '-0' } },
      { op: 'write', guest: 0, page: 1, content: 'r:Y', expect: { 'g0.map': '-.', 'g1.map': '-0' } },
    ],
  }));
  const result = await replay(script);
  assert.equal(result.expectations, { total: 5, failed: 0 });
  assert.is(result.steps[1].result?.digest, blake2bHex(new Uint8Array(4096)), 'it reads as zeros');
});

cmd.after(() => rmSync(dir, { recursive: true, force: true }));
cmd.run();
