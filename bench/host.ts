/**
 * Suite "host" (run on request: `npm run bench -- --only host`; it takes minutes): a whole host of
 * cloned guests estimated the way a user would, `ksm-wasm estimate --scenario clones --size 64G
 * --mode fingerprints` (4 GiB with --quick), with every core, in a child process. Its wall clock
 * from start to exit and its peak resident memory (VmHWM, all threads: rss-probe.mjs) are issue 10's targets:
 * under 60 s and under 2 GiB on a 2-core machine. The run's own split (startup, reading and
 * fingerprinting, scans) comes from its JSON.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { round, type Context } from './lib.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const PROBE = fileURLToPath(new URL('./rss-probe.mjs', import.meta.url));

interface ChildRun { wallMs: number; maxRssBytes: number; json: { startup_ms?: number; read_ms?: number; shards?: number; scans: Array<{ wall_ms: number; pages_sharing: number }> } }

function runCli(args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', PROBE, '--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const rss = /bench-max-rss-kib (\d+)/.exec(err);
      if (code !== 0 || !rss) return reject(new Error(`estimate exited ${code}: ${err.trim().split('\n').slice(-3).join(' / ')}`));
      resolve({ wallMs, maxRssBytes: Number(rss[1]) * 1024, json: JSON.parse(out) });
    });
  });
}

export async function host(ctx: Context): Promise<void> {
  const size = ctx.quick ? '4G' : '64G';
  const threads = availableParallelism();
  ctx.progress(`host: estimate --scenario clones --size ${size} --mode fingerprints --threads ${threads}`);
  const run = await runCli(['estimate', '--scenario', 'clones', '--size', size, '--mode', 'fingerprints', '--threads', String(threads), '--json']);
  const scans = run.json.scans;
  const scanMs = scans[scans.length - 1].wall_ms;
  ctx.figure('host.wallMs', run.wallMs);
  ctx.figure('host.maxRssBytes', run.maxRssBytes);
  ctx.figure('host.sizeGiB', Number.parseInt(size, 10));
  ctx.table(`A ${size} host of cloned guests, fingerprint mode, ${threads} threads, in a child process (one run)`, [{
    size, threads, shards: run.json.shards ?? 1, 'wall s': round(run.wallMs / 1000), 'peak RSS MiB': round(run.maxRssBytes / 2 ** 20),
    'startup ms': round(run.json.startup_ms ?? 0), 'scans ms': round(scanMs), 'full scans': scans.length,
    'rest ms (node start, reading and fingerprinting, report)': round(run.wallMs - scanMs - (run.json.startup_ms ?? 0)),
    pages_sharing: scans[scans.length - 1].pages_sharing,
  }]);
  ctx.note('Wall is the child process from spawn to exit, as a user waits for it; peak RSS is the kernel\'s high-water mark of the child\'s own memory (VmHWM, all its threads; bench/rss-probe.mjs).');
}
