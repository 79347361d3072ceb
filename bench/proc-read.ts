/**
 * Suite "procread": how fast `estimate --pid` reads a large live process, against the floor of
 * reading the same ranges of /proc/PID/mem sequentially (what `cat` or `dd` would do). A child
 * (python3) maps 4 GiB (256 MiB with --quick) private and anonymous, writes every page, opts into
 * KSM and stops itself. The --pid side is the reader alone: smaps, the pagemap and kpageflags walk,
 * and /proc/PID/mem into a chunk handed to a sink that drops it. Loading into the engine is left
 * out: one engine holds at most 4 GiB, and its first-touch cost is measured by the memory suite.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { openLiveProcesses } from '../src/estimate/proc/index.js';
import { round, type Context } from './lib.js';

const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find(existsSync);

const FILLER = `
import ctypes, mmap, os, signal, sys
n = int(sys.argv[1]) << 20
m = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
page = bytearray(4096)
for i in range(0, n, 4096):
    page[0:8] = i.to_bytes(8, 'little')
    page[8] = (i >> 12) % 7
    m[i:i + 4096] = page
ctypes.CDLL(None).prctl(67, 1, 0, 0, 0)
print('ready', flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
`;

export async function procread(ctx: Context): Promise<void> {
  if (!PYTHON) { ctx.note('procread: skipped (no python3 to make the large process)'); return; }
  const mib = ctx.options.smoke ? 16 : ctx.quick ? 256 : 4096;
  const child = spawn(PYTHON, ['-c', FILLER, String(mib)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the ${mib} MiB process exited (${code})`)));
    });
    while (!readFileSync(`/proc/${child.pid}/stat`, 'utf8').includes(') T ')) await new Promise((r) => setTimeout(r, 5));
    const pid = child.pid!;
    const runs: Array<[number, number]> = [];
    // --pid: walk + read (best of 2: the first also warms the page cache of /proc's own metadata).
    let best = { ms: Infinity, walkMs: 0, bytes: 0 };
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const [source] = openLiveProcesses([pid], { question: 'mergeable', freeze: false, host: false, note: () => {} });
      const walkMs = performance.now() - t0;
      let bytes = 0;
      source.read((chunk) => { bytes += chunk.length; });
      const ms = performance.now() - t0;
      if (ms < best.ms) best = { ms, walkMs, bytes };
      if (i === 0) runs.push(...coalesce(Array.from(source.live.addresses)));
    }
    // The floor: the same ranges, read in order, 4 MiB at a time.
    let floorMs = Infinity;
    for (let i = 0; i < 2; i++) floorMs = Math.min(floorMs, sequentialRead(pid, runs));
    const rate = (bytes: number, ms: number) => bytes / 2 ** 20 / (ms / 1000);
    const ratio = best.ms / floorMs;
    ctx.figure('procread.mib', mib);
    ctx.figure('procread.pid.MiBps', rate(best.bytes, best.ms));
    ctx.figure('procread.sequential.MiBps', rate(best.bytes, floorMs));
    ctx.figure('procread.ratio', ratio);
    ctx.table(`Reading a ${mib} MiB live process (${best.bytes / 4096} pages in ${runs.length} ranges)`, [
      { reader: 'estimate --pid (smaps + pagemap/kpageflags walk + /proc/PID/mem)', 'ms': round(best.ms), 'walk ms': round(best.walkMs), 'MiB/s': round(rate(best.bytes, best.ms)) },
      { reader: 'sequential /proc/PID/mem of the same ranges (4 MiB reads)', 'ms': round(floorMs), 'walk ms': 0, 'MiB/s': round(rate(best.bytes, floorMs)) },
    ]);
    ctx.note(`--pid reading takes ${round(ratio)}× the sequential read of the same ranges (goal ≤ 2×).`);
  } finally {
    // Wait until it is gone: the kernel tears down its 4 GiB on a core of this machine after the
    // kill, and the next suite's timed runs (shards, two threads) took up to 3x as long beside it.
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await gone;
  }
}

/** Page addresses into [start, end) ranges of consecutive pages. */
function coalesce(addresses: Iterable<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const a of addresses) {
    const last = out[out.length - 1];
    if (last && last[1] === a) last[1] = a + 4096;
    else out.push([a, a + 4096]);
  }
  return out;
}

function sequentialRead(pid: number, runs: ReadonlyArray<[number, number]>): number {
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  const buffer = new Uint8Array(4 << 20);
  const t0 = performance.now();
  try {
    for (const [start, end] of runs) {
      for (let a = start; a < end; a += buffer.length) readSync(fd, buffer, 0, Math.min(buffer.length, end - a), a);
    }
    return performance.now() - t0;
  } finally {
    closeSync(fd);
  }
}
