/**
 * The estimate's readers: raw images in chunks, ELF core files (segments in address order, only
 * their file bytes), live processes through /proc (contents really read, refusal when not allowed),
 * and a real gcore dump when gdb's gcore is installed.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PageContent } from '../src/pagespec.js';
import { openImage } from '../src/cli/inputs.js';
import { openProcess } from '../src/estimate/proc/index.js';
import { ESTIMATE_KNOB_DEFAULTS } from '../src/estimate/knobs.js';
import { runEstimate } from '../src/estimate/run.js';
import type { ImageSource } from '../src/estimate/source.js';
import { fingerprintPages } from '../src/fingerprint/hash.js';
import { fingerprintSources, hashHere, runHashJob, type HashJob, type HashJobRunner } from '../src/shards/hash-ring.js';
import { CliError } from '../src/cli/errors.js';
import { cannotRun, testIf } from './helpers/can-run.js';

const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-readers-'));
const maker = new PageContent(5);
const page = (spec: string) => maker.page(spec);

function readAll(source: ImageSource): Uint8Array {
  const parts: Uint8Array[] = [];
  source.read((chunk) => parts.push(chunk.slice()));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

interface Seg { type: number; vaddr: number; data?: Uint8Array; memsz?: number }

/** A 64-bit little-endian ET_CORE file with the given program headers; segment data page-aligned. */
function elfCore(segments: Seg[]): Uint8Array {
  const headers = 64 + segments.length * 56;
  let offset = Math.ceil(headers / 4096) * 4096;
  const placed = segments.map((s) => { const at = offset; offset += Math.ceil((s.data?.length ?? 0) / 4096) * 4096; return at; });
  const out = new Uint8Array(offset);
  const v = new DataView(out.buffer);
  [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1].forEach((b, i) => v.setUint8(i, b));
  v.setUint16(16, 4, true); v.setUint16(18, 62, true); v.setUint32(20, 1, true);
  v.setBigUint64(32, 64n, true); v.setUint16(52, 64, true); v.setUint16(54, 56, true); v.setUint16(56, segments.length, true);
  segments.forEach((s, i) => {
    const h = 64 + i * 56;
    const size = s.data?.length ?? 0;
    v.setUint32(h, s.type, true); v.setUint32(h + 4, 6, true);
    v.setBigUint64(h + 8, BigInt(size ? placed[i] : 0), true);
    v.setBigUint64(h + 16, BigInt(s.vaddr), true);
    v.setBigUint64(h + 32, BigInt(size), true);
    v.setBigUint64(h + 40, BigInt(s.memsz ?? size), true);
    v.setBigUint64(h + 48, 4096n, true);
    if (s.data) out.set(s.data, placed[i]);
  });
  return out;
}

const cat = (...pages: Uint8Array[]) => { const o = new Uint8Array(pages.reduce((n, p) => n + p.length, 0)); let a = 0; for (const p of pages) { o.set(p, a); a += p.length; } return o; };

const test = suite('estimate readers');

test('raw image: every page, in order, across read chunks', () => {
  const pages = Array.from({ length: 1300 }, (_, i) => (i % 7 === 0 ? 'Z' : `r:raw/${i % 50}`)); // 5.1 MiB: two chunks
  const bytes = maker.image(pages);
  const path = join(dir, 'big.img');
  writeFileSync(path, bytes);
  const source = openImage(path);
  assert.is(source.pages, 1300);
  assert.is(Buffer.compare(readAll(source), bytes), 0);
});

test('ELF core: PT_LOAD file bytes only, in address order, a partial last page padded with zeros', () => {
  const tail = page('r:D2').slice(0, 1904);
  const core = elfCore([
    { type: 4, vaddr: 0, data: new Uint8Array(100).fill(9) },        // PT_NOTE: not memory
    { type: 1, vaddr: 0x20000, data: cat(page('r:A1'), page('r:A2')) },
    { type: 1, vaddr: 0x10000, data: page('r:B') },
    { type: 1, vaddr: 0x30000, memsz: 4096 },                          // no file bytes (not dumped)
    { type: 1, vaddr: 0x40000, data: cat(page('r:D1'), tail) },
  ]);
  const path = join(dir, 'synthetic.core');
  writeFileSync(path, core);
  const source = openImage(path);
  assert.is(source.pages, 5);
  const padded = new Uint8Array(4096);
  padded.set(tail);
  assert.is(Buffer.compare(readAll(source), cat(page('r:B'), page('r:A1'), page('r:A2'), page('r:D1'), padded)), 0);
});

/** Fingerprints `sources` through the hashing ring, its jobs run by `runners`; the records in read order. */
function ringRecords(sources: ImageSource[], runners: HashJobRunner[]): Uint8Array {
  const parts: Uint8Array[] = [];
  fingerprintSources(sources, runners, (records) => parts.push(records.slice()));
  return cat(...parts);
}

/** File descriptors this process has open now. */
const fds = (): number => readdirSync('/proc/self/fd').length;

/** Two hashing threads as workers run them: a job's failure stays with its thread (its slot says FAILED). */
function workerLike(): HashJobRunner[] {
  return [0, 1].map(() => (job: HashJob) => { try { runHashJob(job); } catch { /* as on a worker */ } });
}

test('raw images and ELF cores: the hashing threads read their file runs themselves, and fingerprint what read() gives', () => {
  const sources = [openImage(join(dir, 'big.img')), openImage(join(dir, 'synthetic.core'))];
  assert.ok(sources.every((s) => s.readFileRuns), 'both readers say where their pages are in the file');
  const before = fds();
  const want = cat(...sources.map((s) => fingerprintPages(readAll(s))));
  assert.equal(ringRecords(sources, workerLike()), want, 'on worker-like threads');
  assert.equal(ringRecords(sources, [hashHere]), want, 'in the reader\'s thread');
  assert.is(fds(), before, 'every file descriptor the ring opened is closed');
});

test('image files are closed as the reading moves on: a few descriptors open whatever the number of inputs', () => {
  const paths = Array.from({ length: 40 }, (_, i) => {
    const path = join(dir, `small-${i}.img`);
    writeFileSync(path, maker.image(Array.from({ length: 3 }, (_, p) => `r:small/${i}/${p}`)));
    return path;
  });
  const before = fds();
  let most = 0;
  const counting: HashJobRunner = (job) => { most = Math.max(most, fds() - before); runHashJob(job); };
  const sources = paths.map((path) => openImage(path));
  assert.equal(ringRecords(sources, [counting]), cat(...sources.map((s) => fingerprintPages(readAll(s)))));
  assert.ok(most >= 1 && most <= 9, `at most the ring's 8 jobs' files and the next one open: ${most}`);
  assert.is(fds(), before);
});

test('a file cut short while a hashing thread reads it: the reader\'s own error, naming the file', () => {
  const path = join(dir, 'shrinking.img');
  writeFileSync(path, maker.image(Array.from({ length: 2100 }, (_, i) => `r:shrink/${i}`)));
  const source = openImage(path);
  truncateSync(path, 1500 * 4096);
  assert.throws(() => ringRecords([source], workerLike()), (error: Error) => error instanceof CliError && /shrinking\.img: the file ended at byte 6144000, before the/.test(error.message));
});

const PATTERN = `
import mmap, sys
m = mmap.mmap(-1, 64 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for i in range(64):
    m[i * 4096:(i + 1) * 4096] = (b'ksm-wasm-same-page' * 300)[:4096] if i < 32 else bytes([i]) * 4095 + b'u'
print('ready', flush=True)
sys.stdin.read()
`;

const noPython = cannotRun({ commands: ['python3'] });
const cannotDrop = cannotRun({ root: 'dropping to another user needs root', commands: ['python3'] });
const noGcore = cannotRun({ commands: ['python3', 'gcore'], ptrace: true });

/** A python3 process holding 32 identical pages and 32 unique ones; stops when stdin closes. */
async function patternProcess(): Promise<{ pid: number; stop: () => void }> {
  const child = spawn('python3', ['-c', PATTERN], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`python3 exited ${code}`)));
  });
  return { pid: child.pid!, stop: () => child.stdin.end() };
}

testIf(test, noPython)('--pid: the process\'s private pages are read, and its 32 identical pages merge', async () => {
  const proc = await patternProcess();
  try {
    const source = openProcess(proc.pid, { question: 'merge-any' }); // it did not opt in: what it would give if it did
    assert.ok(source.pages >= 64, `at least the 64 pattern pages, got ${source.pages}`);
    const run = await runEstimate([source], { knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: 100000 }, maxScans: 4, stableScans: 2, maxMemory: 256 << 20 });
    const last = run.scans[run.scans.length - 1];
    assert.ok(last.pagesSharing >= 31, `the 32 equal pages give 31 sharing at least, got ${last.pagesSharing}`);
  } finally {
    proc.stop();
  }
});

testIf(test, cannotDrop)('--pid: a process we may not read is refused with a clear message', async () => {
  const proc = await patternProcess();
  try {
    // The CLI starts as root (the checkout may be private to root) and becomes uid 65534 (nobody)
    // right before it first reads /proc: see tests/helpers/drop-privileges.ts.
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => execFile(process.execPath,
      ['--import', 'tsx', new URL('./helpers/drop-privileges.ts', import.meta.url).pathname, '65534', '65534',
        new URL('../src/cli.ts', import.meta.url).pathname, 'estimate', '--pid', String(proc.pid)],
      { cwd: new URL('..', import.meta.url).pathname },
      (error, _out, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr })));
    assert.is(r.code, 2, 'bad input');
    assert.match(r.stderr, new RegExp(`^ksm-wasm estimate: pid ${proc.pid}: cannot read /proc/${proc.pid}/s?maps: permission denied .*root or ptrace`));
    assert.is(r.stderr.trim().split('\n').length, 1);
  } finally {
    proc.stop();
  }
});

testIf(test, noGcore)('a real gcore dump (gdb\'s gcore) is read and estimated', async () => {
  const proc = await patternProcess();
  try {
    const prefix = join(dir, 'core');
    const dump = spawnSync('gcore', ['-o', prefix, String(proc.pid)], { encoding: 'utf8' });
    assert.is(dump.status, 0, `gcore failed: ${dump.stderr.trim().split('\n').pop()}`);
    const source = openImage(`${prefix}.${proc.pid}`);
    assert.ok(source.pages >= 64, `the dump holds at least the 64 pattern pages, got ${source.pages}`);
    const run = await runEstimate([source], { knobs: { ...ESTIMATE_KNOB_DEFAULTS, pagesToScan: 100000 }, maxScans: 4, stableScans: 2, maxMemory: 256 << 20 });
    assert.ok(run.scans[run.scans.length - 1].pagesSharing >= 31);
  } finally {
    proc.stop();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
