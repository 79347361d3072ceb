/**
 * The seed's case on real QEMU guests (root; KSM idle):
 *
 *   node --import tsx scripts/qemu/guests.ts run    [--count 3] [--memory 192M] [settle options]
 *   node --import tsx scripts/qemu/guests.ts compare [as run]   (run, with ksm-wasm estimate --pid on the same
 *                                                       stopped guests first, in each of compare.ts's
 *                                                       configurations; exit 1 if one differs from the kernel)
 *   node --import tsx scripts/qemu/guests.ts boot   [--count 3] [--memory 192M]   (prints the pids; guests stay stopped)
 *   node --import tsx scripts/qemu/guests.ts settle [--pids A,B,C] [settle options]
 *   node --import tsx scripts/qemu/guests.ts kill
 *
 * boot options (run, compare, boot): --count 3 --memory 192M --boot-timeout 300, and --huge-pages off
 *   to boot the guests without transparent huge pages (QEMU started under prctl PR_SET_THP_DISABLE;
 *   the host's setting is left alone). When the guests have none (that, or a host whose THP is
 *   never), compare also runs the estimate in content shards, which huge pages keep to one.
 *
 * settle options: --pages-to-scan 5000 --smart-scan 1 --use-zero-pages 0 --max-scans 40
 *   --stable 3 --khugepaged paused|configured, and --realtime-sleep MS to let ksmd run at its own pace
 *   (sleep_millisecs MS) instead of step mode. settle and run take /tmp/ksm-kernel.lock themselves.
 *
 * `run` installs what is missing (apt-get), builds the initramfs, boots the guests (TCG), stops
 * them, lets the real ksmd settle on them, prints one JSON document on stdout (progress on stderr)
 * and kills the guests, also on error or a signal. `boot` leaves them stopped for other tools
 * (ksm-wasm estimate --pid); `kill` ends them (only pids that are still qemu-system processes).
 * A settle run ends with run=2, which unmerges the KSM pages but not the zero subpages: boot fresh
 * guests for every measurement.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootGuests, killGuests, readState, stateFile, type BootOptions } from './boot.js';
import { settle, type SettleOptions } from './settle.js';
import { configurations, differences, estimateGuests, seconds } from './compare.js';
import { busyReason } from '../../tests/conformance/sysfs.js';
import { buildInitramfs, findKernel, installMissing } from './setup.js';

const DIR = join(tmpdir(), 'ksm-wasm-qemu');
const LOCK = '/tmp/ksm-kernel.lock';
const log = (line: string) => process.stderr.write(`qemu: ${line}\n`);

class UsageError extends Error {}

function flags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new UsageError(`bad argument ${argv[i]}`);
    out.set(argv[i].slice(2), argv[i + 1]);
  }
  return out;
}

function int(f: Map<string, string>, name: string, dflt: number, min = 0): number {
  const v = f.has(name) ? Number(f.get(name)) : dflt;
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
  return v;
}

function bootOptions(f: Map<string, string>): BootOptions {
  const kernel = findKernel();
  if (!kernel) throw new Error('no /boot/vmlinuz-* (apt-get install linux-image-amd64)');
  const memory = f.get('memory') ?? '192M';
  if (!/^\d+[MG]$/.test(memory)) throw new UsageError('--memory must look like 192M');
  const hugePages = f.get('huge-pages') ?? 'on';
  if (hugePages !== 'on' && hugePages !== 'off') throw new UsageError('--huge-pages must be on or off');
  return { count: int(f, 'count', 3, 1), memory, kernel, initrd: buildInitramfs(DIR), dir: DIR, timeoutMs: int(f, 'boot-timeout', 300, 10) * 1000, hugePages };
}

function settleOptions(f: Map<string, string>, pids: number[]): SettleOptions {
  const k = f.get('khugepaged') ?? 'paused';
  if (k !== 'paused' && k !== 'configured') throw new UsageError('--khugepaged must be paused or configured');
  return {
    pids, pagesToScan: int(f, 'pages-to-scan', 5000, 1), smartScan: int(f, 'smart-scan', 1), useZeroPages: int(f, 'use-zero-pages', 0),
    maxScans: int(f, 'max-scans', 40, 1), stable: int(f, 'stable', 3, 1), khugepaged: k === 'paused' ? 'paused' : 'as configured',
    realtimeSleepMs: f.has('realtime-sleep') ? int(f, 'realtime-sleep', 20, 0) : undefined,
  };
}

/** Re-runs this command under the kernel lock unless it already holds it. */
function underLock(argv: string[]): boolean {
  if (process.env.KSM_WASM_LOCKED === '1') return false;
  const r = spawnSync('flock', [LOCK, process.execPath, ...process.execArgv, process.argv[1], ...argv], { stdio: 'inherit', env: { ...process.env, KSM_WASM_LOCKED: '1' } });
  process.exitCode = r.status ?? 1;
  return true;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const f = flags(rest);
  mkdirSync(DIR, { recursive: true });
  const stop = { signal: '' };
  if (command === 'kill') {
    log(`killed ${killGuests(readState(DIR))} guests`);
    rmSync(stateFile(DIR), { force: true });
    return;
  }
  if (command === 'boot') {
    installMissing(log);
    const guests = await bootGuests(bootOptions(f), log);
    console.log(JSON.stringify({ pids: guests.map((g) => g.pid), guests }, null, 1));
    return;
  }
  if (command === 'settle') {
    const pids = f.has('pids') ? f.get('pids')!.split(',').map(Number) : readState(DIR);
    if (pids.length === 0 || pids.some((p) => !Number.isInteger(p) || p <= 0)) throw new UsageError('no guests: --pids A,B,C or boot first');
    settleOptions(f, pids); // bad options are refused before waiting for the lock
    if (underLock([command, ...rest])) return;
    console.log(JSON.stringify(await withSignals(stop, () => settle(settleOptions(f, pids), log, stop)), null, 1));
    return;
  }
  if (command === 'compare') {
    settleOptions(f, []);
    if (underLock([command, ...rest])) return;
    await runAll(f, stop, true);
    return;
  }
  if (command === 'run') {
    settleOptions(f, []);
    if (underLock([command, ...rest])) return;
    await runAll(f, stop);
    return;
  }
  throw new UsageError('usage: guests.ts run|boot|settle|kill [options] (see the comment at the top)');
}

/** boot + settle + kill, the guests killed whatever happens (error, signal, exit). */
async function runAll(f: Map<string, string>, stop: { signal: string }, compare = false): Promise<void> {
  installMissing(log);
  const busy = busyReason();
  if (busy) throw new Error(`${busy} (nothing booted)`); // fail before the boot, not after it
  const o = bootOptions(f);
  const killAll = () => { killGuests(readState(DIR)); };
  let settling = false;
  const onSignal = (s: string) => {
    stop.signal = s;
    killAll();
    if (!settling) process.exit(130); // while settling, settle() sees stop.signal and restores KSM first
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', killAll);
  try {
    const t0 = performance.now();
    const guests = await bootGuests(o, log);
    const bootWall = seconds(performance.now() - t0);
    const pids = guests.map((g) => g.pid);
    const so = settleOptions(f, pids);
    const hugePages = guestsHaveHugePages(pids);
    const estimates = compare ? estimateGuests(pids, so, configurations(hugePages)) : undefined;
    settling = true;
    const result = await settle(so, log, stop);
    console.log(JSON.stringify({ kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(), qemu: { memory: o.memory, count: o.count, hugePages: o.hugePages, guestsHaveHugePages: hugePages, bootWallSeconds: bootWall, guests }, ...result, ...(estimates ? { estimates } : {}) }, null, 1));
    for (const { options, equal, seconds, estimate } of estimates ?? []) {
      const diff = differences(estimate, result, equal);
      const how = `estimate ${options} (${estimate.mode}, ${estimate.shards} shard${estimate.shards === 1 ? '' : 's'}, ${seconds} s)`;
      const what = equal === 'every scan' ? 'every full scan\'s counters' : `the settled scan and every one after it (${differences(estimate, result).length} differences before, in the scans where huge pages split)`;
      log(diff.length ? `${how} is DIFFERENT from the kernel:\n  ${diff.join('\n  ')}` : `${how} equals the kernel: ${what}, each guest's ksm_stat, and the pages freed by merges and by splits`);
      if (diff.length) process.exitCode = 1;
    }
  } finally {
    killAll();
    rmSync(stateFile(DIR), { force: true });
    process.off('exit', killAll);
    for (const s of signals) process.off(s, onSignal);
  }
}

/** Whether any guest's RAM is in transparent huge pages (AnonHugePages in its smaps_rollup). */
function guestsHaveHugePages(pids: number[]): boolean {
  return pids.some((pid) => /^AnonHugePages:\s+[1-9]/m.test(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')));
}

async function withSignals<T>(stop: { signal: string }, body: () => Promise<T>): Promise<T> {
  const on = (s: string) => { stop.signal = s; };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, on);
  try { return await body(); } finally { for (const s of signals) process.off(s, on); }
}

main().catch((error: Error) => {
  log(error instanceof UsageError ? error.message : `error: ${error.message}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
