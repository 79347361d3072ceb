/**
 * --freeze: a process is stopped (SIGSTOP) while its pages are walked and read, then resumed
 * (SIGCONT), and none is ever left stopped. On an error the caller resumes in a finally. If the
 * estimate dies (SIGINT, SIGTERM, even SIGKILL) a watchdog resumes them: a detached process started
 * before the first stop, which reads a pipe from the estimate; the pipe closes when the estimate's
 * process dies, however it dies, and the watchdog then resumes every pid listed in a state file
 * that the estimate rewrites (synchronously) before each stop and after each resume.
 * A process that was already stopped is neither stopped nor resumed; this process and its
 * ancestors are never stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../../cli/errors.js';
import { isStopped, readStat, selfAndAncestors } from './stat.js';

/** The watchdog: waits for its stdin to close, then SIGCONTs the pids in the file. Signals that end a session are ignored. */
const WATCHDOG = `
const fs = require('fs');
const file = process.argv[1];
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
process.stdin.resume();
process.stdin.on('close', () => {
  let pids = [];
  try { pids = fs.readFileSync(file, 'utf8').split('\\n').filter(Boolean).map(Number); } catch {}
  for (const pid of pids) { try { process.kill(pid, 'SIGCONT'); } catch {} }
  try { fs.rmSync(file); } catch {}
  process.exit(0);
});`;

/** How long to wait for every thread of a process to stop. */
const STOP_TIMEOUT_MS = 2000;

export class Freezer {
  readonly #stopped = new Set<number>();
  readonly #protected = selfAndAncestors();
  readonly #file = join(tmpdir(), `ksm-wasm-freeze-${process.pid}.pids`);
  #watchdog: ChildProcess | undefined;

  /** Why this process may not be frozen, or undefined if it may. */
  refusal(pid: number): string | undefined {
    if (this.#protected.has(pid)) return 'it is this estimate or one of its ancestors';
    if (this.#watchdog?.pid === pid) return "it is the estimate's watchdog";
    return undefined;
  }

  /**
   * Stops the process and waits until every thread is stopped. Returns false (and does nothing)
   * when it was already stopped or may not be frozen: then it must not be resumed either.
   */
  stop(pid: number): boolean {
    if (this.refusal(pid)) return false;
    const stat = readStat(pid);
    if (!stat || isStopped(stat)) return false;
    this.#startWatchdog();
    this.#stopped.add(pid);
    this.#save();
    try {
      process.kill(pid, 'SIGSTOP');
    } catch {
      this.resume(pid);
      return false;
    }
    waitUntilStopped(pid);
    return true;
  }

  /** Resumes a process this freezer stopped (no-op otherwise). */
  resume(pid: number): void {
    if (!this.#stopped.has(pid)) return;
    try { process.kill(pid, 'SIGCONT'); } catch { /* it exited */ }
    this.#stopped.delete(pid);
    this.#save();
  }

  /** Resumes every process still stopped, and lets the watchdog go. */
  close(): void {
    for (const pid of [...this.#stopped]) this.resume(pid);
    rmSync(this.#file, { force: true });
    this.#watchdog?.stdin?.end();
    this.#watchdog = undefined;
  }

  #save(): void {
    writeFileSync(this.#file, [...this.#stopped].map((p) => `${p}\n`).join(''), { mode: 0o600 });
  }

  #startWatchdog(): void {
    if (this.#watchdog) return;
    writeFileSync(this.#file, '', { mode: 0o600 });
    const child = spawn(process.execPath, ['-e', WATCHDOG, this.#file], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    if (child.pid === undefined) throw new CliError('input', '--freeze: could not start the watchdog that resumes frozen processes if the estimate dies; nothing was frozen');
    child.on('error', () => { /* reported through child.pid above */ });
    child.unref();
    (child.stdin as unknown as { unref?: () => void })?.unref?.();
    this.#watchdog = child;
  }
}

/** Polls every thread's state until all are stopped (a group stop takes each thread a moment). */
function waitUntilStopped(pid: number): void {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    if (allThreadsStopped(pid)) return;
    Atomics.wait(nap, 0, 0, 1);
  }
}

function allThreadsStopped(pid: number): boolean {
  const stat = readStat(pid);
  if (!stat) return true; // gone: nothing to wait for
  if (!isStopped(stat)) return false;
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const state = text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
        return state === 'T' || state === 't' || state === 'Z' || state === 'X';
      } catch {
        return true;
      }
    });
  } catch {
    return true;
  }
}
