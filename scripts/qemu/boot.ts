/**
 * Booting QEMU guests (TCG; /dev/kvm hung here) one after the other, so that ksmd's list of mms is
 * their order, each with its serial console in a log file; waiting for each one's ready marker,
 * then SIGSTOP. The pids and boot times are kept in a state file so that a later `settle` or
 * `kill` finds them; `kill` checks each pid is still a qemu-system process before killing it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { READY_MARKER } from './setup.js';

export interface GuestInfo { pid: number; log: string; bootSeconds: number; guestUptime: number }
export interface BootOptions {
  count: number; memory: string; kernel: string; initrd: string; dir: string; timeoutMs: number;
  /** Transparent huge pages for the guests' RAM (QEMU madvises it): as the host is configured, or none. */
  hugePages: 'on' | 'off';
}

export function stateFile(dir: string): string { return join(dir, 'guests.json'); }

export function qemuArgs(o: BootOptions): string[] {
  return ['-machine', 'accel=tcg', '-m', o.memory, '-nographic', '-no-reboot',
    '-kernel', o.kernel, '-initrd', o.initrd, '-append', 'console=ttyS0 panic=-1 quiet'];
}

/**
 * Runs `command` with transparent huge pages disabled for it and what it starts: prctl
 * PR_SET_THP_DISABLE (41), which fork and exec keep, then exec; the pid stays the command's. Through
 * Python's ctypes, as Node has no prctl; nothing on the host changes.
 */
const WITHOUT_HUGE_PAGES = [
  'import ctypes, os, sys',
  'ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0) == 0 or sys.exit("prctl(PR_SET_THP_DISABLE) failed: errno %d" % ctypes.get_errno())',
  'os.execvp(sys.argv[1], sys.argv[1:])',
].join('\n');

/** Starts one guest's QEMU; its pid once that pid is QEMU (through python3: once it has exec'd). */
async function spawnQemu(o: BootOptions, fd: number): Promise<number> {
  const [file, args] = o.hugePages === 'on' ? ['qemu-system-x86_64', qemuArgs(o)] : ['python3', ['-c', WITHOUT_HUGE_PAGES, 'qemu-system-x86_64', ...qemuArgs(o)]];
  const child = spawn(file, args, { stdio: ['ignore', fd, fd], detached: true });
  let failed: Error | undefined;
  child.on('error', (error) => { failed = error; });
  child.unref();
  for (const deadline = performance.now() + EXEC_TIMEOUT_MS; performance.now() < deadline;) {
    if (failed) throw new Error(`${file} did not start: ${failed.message}`);
    if (child.pid && isQemu(child.pid)) return child.pid;
    if (child.exitCode !== null) throw new Error(`${file} exited (status ${child.exitCode}) before QEMU ran`);
    await sleep(10);
  }
  if (child.pid) process.kill(child.pid, 'SIGKILL');
  throw new Error(`${file} did not become qemu-system-x86_64 in ${EXEC_TIMEOUT_MS / 1000} s`);
}

/** How long python3 may take to exec QEMU. */
const EXEC_TIMEOUT_MS = 10_000;

/** Boots count guests, waits for all markers, stops them; the guests, in start order. */
export async function bootGuests(o: BootOptions, log: (line: string) => void): Promise<GuestInfo[]> {
  const started: Array<{ pid: number; log: string; t0: number }> = [];
  try {
    for (let i = 0; i < o.count; i++) {
      const logPath = join(o.dir, `guest${i + 1}.log`);
      rmSync(logPath, { force: true });
      const fd = openSync(logPath, 'w');
      const t0 = performance.now();
      let pid: number;
      try {
        pid = await spawnQemu(o, fd);
      } finally {
        closeSync(fd);
      }
      started.push({ pid, log: logPath, t0 });
      writeState(o.dir, started.map((s) => s.pid));
      await sleep(300); // QEMU madvises guest RAM at startup: keep the mm order the start order
    }
    const guests: GuestInfo[] = [];
    for (const s of started) {
      const uptime = await waitForMarker(s.pid, s.log, s.t0 + o.timeoutMs);
      const bootSeconds = (performance.now() - s.t0) / 1000;
      guests.push({ pid: s.pid, log: s.log, bootSeconds: Math.round(bootSeconds * 10) / 10, guestUptime: uptime });
    }
    for (const g of guests) process.kill(g.pid, 'SIGSTOP');
    log(`booted ${guests.length} guests: ${guests.map((g) => `${g.pid} (${g.bootSeconds} s)`).join(', ')}; stopped`);
    return guests;
  } catch (error) {
    killGuests(started.map((s) => s.pid));
    rmSync(stateFile(o.dir), { force: true });
    throw error;
  }
}

async function waitForMarker(pid: number, logPath: string, deadline: number): Promise<number> {
  while (performance.now() < deadline) {
    const text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
    const m = new RegExp(`${READY_MARKER} ([0-9.]+)`).exec(text);
    if (m) return Number(m[1]);
    if (!isQemu(pid)) throw new Error(`guest ${pid} exited before booting; its console: ${text.slice(-400)}`);
    await sleep(200);
  }
  throw new Error(`guest ${pid} did not boot in time (no ${READY_MARKER} on its console, ${logPath})`);
}

function writeState(dir: string, pids: number[]): void {
  writeFileSync(stateFile(dir), JSON.stringify({ pids }));
}

export function readState(dir: string): number[] {
  if (!existsSync(stateFile(dir))) return [];
  return (JSON.parse(readFileSync(stateFile(dir), 'utf8')) as { pids: number[] }).pids;
}

export function isQemu(pid: number): boolean {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('qemu-system'); } catch { return false; }
}

/** SIGKILLs those pids that are still QEMU processes; returns how many were killed. */
export function killGuests(pids: number[]): number {
  let killed = 0;
  for (const pid of pids) {
    if (!isQemu(pid)) continue;
    try { process.kill(pid, 'SIGKILL'); killed++; } catch { /* gone */ }
  }
  return killed;
}
