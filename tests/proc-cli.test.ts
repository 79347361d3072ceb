/**
 * `ksm-wasm estimate` on live processes from the command line: bad input (a kernel thread, a zombie,
 * a process with nothing marked mergeable, a cgroup that is not one, a process gone before it was
 * read), and --freeze, which must leave no process stopped: not after a run, not when the estimate
 * is killed with SIGKILL or SIGINT in the middle, and never this test (the estimate's ancestor).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupRoot } from '../src/estimate/proc/discover.js';
import { openProcess } from '../src/estimate/proc/index.js';
import { PYTHON, stopped } from './live/programs.js';
import { cannotRun, testIf } from './helpers/can-run.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const DROP = fileURLToPath(new URL('./helpers/drop-privileges.ts', import.meta.url));
const FAST = ['--pages-to-scan', '100000', '--sleep-millisecs', '0', '--max-scans', '4', '--stable-scans', '1'];

/**
 * The CLI, as root or (`as`) as that user: started as root, it drops to the user right before it
 * first reads /proc (tests/helpers/drop-privileges.ts), so the checkout may be private to root.
 */
function cli(args: string[], as?: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = as === undefined ? [CLI] : [DROP, String(as), String(as), CLI];
  return new Promise((resolve) => execFile(process.execPath, ['--import', 'tsx', ...command, 'estimate', ...args],
    { timeout: 120_000, maxBuffer: 64 << 20, cwd: fileURLToPath(new URL('..', import.meta.url)) },
    (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })));
}

/** A python3 that opts into KSM (or not), fills `mib` MiB, prints "ready" and waits (or stops itself). */
async function program(options: { optIn?: boolean; mib?: number; stop?: boolean; zombieChild?: boolean; uid?: number } = {}): Promise<{ child: ChildProcess; pid: number; extra: number }> {
  const code = `
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None)
${options.optIn === false ? '' : 'assert libc.prctl(67, 1, 0, 0, 0) == 0'}
b = bytearray(${options.mib ?? 1} << 20)
for i in range(0, len(b), 4096): b[i] = (i >> 12) & 255
extra = 0
${options.zombieChild ? 'extra = os.fork()\nif extra == 0: os._exit(0)\ntime.sleep(0.2)' : ''}
print(extra, flush=True)
${options.stop ? 'os.kill(os.getpid(), signal.SIGSTOP)' : ''}
time.sleep(600)`;
  const child = spawn(PYTHON, ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'], cwd: '/', ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }) });
  const extra = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (c) => reject(new Error(`python3 exited ${c}`)));
  });
  if (options.stop) while (!stopped(child.pid!)) await new Promise((r) => setTimeout(r, 10));
  return { child, pid: child.pid!, extra };
}

function oneLine(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.is.not(r.code, 0, 'non-zero exit');
  assert.match(r.stderr, pattern);
  assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
}

const rootTest = testIf(test, cannotRun({ root: 'reading other processes\' page frames and memory needs root' }));

test('a kernel thread is refused: it has no memory of its own', async () => {
  oneLine(await cli(['--pid', '2', '--freeze']), /^ksm-wasm estimate: pid 2: a kernel thread \(kthreadd\)/);
});

test('a cgroup path that does not exist, or is not a cgroup, is refused', async () => {
  oneLine(await cli(['--cgroup', '/sys/fs/cgroup/no-such-group-ksm-wasm']), /--cgroup \/sys\/fs\/cgroup\/no-such-group-ksm-wasm: no such cgroup/);
  oneLine(await cli(['--cgroup', '/tmp']), /--cgroup \/tmp: not a cgroup v2 directory/);
});

test('a zombie is refused', async () => {
  const p = await program({ zombieChild: true });
  try {
    oneLine(await cli(['--pid', String(p.extra), '--freeze']), new RegExp(`^ksm-wasm estimate: pid ${p.extra}: a zombie`));
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('a process with nothing marked mergeable: one line saying so, with the hint to ask --merge-any', async () => {
  const p = await program({ optIn: false });
  try {
    oneLine(await cli(['--pid', String(p.pid)]), /no mapping is marked mergeable, so KSM would not scan it; --merge-any estimates what it would give/);
    const any = await cli(['--pid', String(p.pid), '--merge-any', '--json', ...FAST]);
    assert.is(any.code, 0, any.stderr);
    assert.ok(JSON.parse(any.stdout).spaces[0].pages >= 256, 'with --merge-any its pages are read');
  } finally {
    p.child.kill('SIGKILL');
  }
});

rootTest('--cgroup: every process of a cgroup v2 directory and of its children, in PID order, with pid and comm', async () => {
  const base = cgroupRoot();
  const dir = join(base, `ksm-wasm-test-${process.pid}`);
  const a = await program();
  const b = await program();
  try {
    mkdirSync(join(dir, 'child'), { recursive: true });
    writeFileSync(join(dir, 'cgroup.procs'), String(a.pid));
    writeFileSync(join(dir, 'child', 'cgroup.procs'), String(b.pid));
    const r = await cli(['--cgroup', dir.slice(base.length + 1), '--json', ...FAST]);
    assert.is(r.code, 0, r.stderr);
    const spaces = JSON.parse(r.stdout).spaces as Array<{ pid: number; comm: string }>;
    assert.equal(spaces.map((s) => s.pid), [a.pid, b.pid].sort((x, y) => x - y));
    assert.ok(spaces.every((s) => s.comm === 'python3'));
  } finally {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    await Promise.all([a, b].map((p) => new Promise((r) => (p.child.exitCode !== null || p.child.signalCode !== null ? r(0) : p.child.once('exit', r)))));
    for (const d of [join(dir, 'child'), dir]) try { rmdirSync(d); } catch { /* not created */ }
  }
});

rootTest('not root: the page set is an upper bound, said in the table and as "exact": false', async () => {
  const p = await program({ uid: 65534 });
  try {
    const json = await cli(['--pid', String(p.pid), '--json', ...FAST], 65534);
    assert.is(json.code, 0, json.stderr);
    const space = JSON.parse(json.stdout).spaces[0];
    assert.is(space.exact, false);
    assert.ok(space.pages >= 256);
    assert.match(json.stderr, /not root: .*upper bound/);
    const table = await cli(['--pid', String(p.pid), ...FAST], 65534);
    assert.match(table.stdout, /UPPER BOUND: 1 page set is not exact/);
  } finally {
    p.child.kill('SIGKILL');
  }
});

rootTest('a process that exits before its pages are read is said so', async () => {
  const p = await program();
  const source = openProcess(p.pid, { note: () => {} });
  p.child.kill('SIGKILL');
  await new Promise((r) => p.child.once('exit', r));
  assert.throws(() => source.read(() => {}), new RegExp(`pid ${p.pid} \\(python3\\): exited before its pages were read`));
});

rootTest('--freeze: the process is stopped while read and running after; one already stopped stays stopped', async () => {
  const running = await program();
  const halted = await program({ stop: true });
  try {
    const r = await cli(['--pid', `${running.pid},${halted.pid}`, '--freeze', '--json', ...FAST]);
    assert.is(r.code, 0, r.stderr);
    const spaces = JSON.parse(r.stdout).spaces;
    assert.equal(spaces.map((s: { frozen: number }) => s.frozen), [1, 0]);
    assert.not.ok(stopped(running.pid), 'resumed after the read');
    assert.ok(stopped(halted.pid), 'already stopped: left stopped');
    assert.match(r.stderr, new RegExp(`pid ${halted.pid} \\(python3\\): not frozen: it was already stopped and stays so`));
  } finally {
    running.child.kill('SIGKILL');
    halted.child.kill('SIGKILL');
  }
});

rootTest('--freeze never stops the estimate or its ancestors (this test runs it)', async () => {
  const r = await cli(['--pid', String(process.pid), '--freeze', '--merge-any', '--json', ...FAST, '--max-memory', '2048']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`pid ${process.pid} \\(\\S+\\): not frozen: it is this estimate or one of its ancestors`));
});

for (const signal of ['SIGKILL', 'SIGINT', 'SIGTERM'] as const) {
  rootTest(`--freeze: the estimate killed by ${signal} while a process is frozen leaves it running`, async () => {
    const p = await program({ mib: 1536 });
    const estimate = spawn(process.execPath, ['--import', 'tsx', CLI, 'estimate', '--pid', String(p.pid), '--freeze', '--max-memory', '4096', ...FAST], { stdio: 'ignore' });
    try {
      const start = Date.now();
      while (!stopped(p.pid)) {
        assert.ok(Date.now() - start < 60_000, 'the estimate froze the process');
        assert.is(estimate.exitCode, null, 'the estimate is still running');
        await new Promise((r) => setTimeout(r, 2));
      }
      estimate.kill(signal);
      await new Promise((r) => estimate.once('exit', r));
      const killedAt = Date.now();
      while (stopped(p.pid) && Date.now() - killedAt < 5000) await new Promise((r) => setTimeout(r, 10));
      assert.not.ok(stopped(p.pid), `still stopped 5 s after the estimate died of ${signal}`);
    } finally {
      estimate.kill('SIGKILL');
      p.child.kill('SIGKILL');
    }
  });
}

test.run();
