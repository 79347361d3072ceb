/**
 * Suite "kernel": the real ksmd of this machine on the same images as the scans suite, its CPU
 * time per full pass and to the settled merge state, against the engine's.
 *
 * It drives the kernel through the project's conformance harness (tests/conformance/harness.ts):
 * one process per image (MAP_PRIVATE anonymous memory filled with the image, MADV_NOHUGEPAGE
 * before the first touch, MADV_MERGEABLE), ksmd stepped one batch at a time, ksmd's CPU time from
 * /proc/<ksmd>/schedstat. pages_to_scan is above the page count, so a batch is a full pass, as in
 * the engine's runs. The harness refuses to start unless KSM is idle (run=0, no KSM pages, no other
 * process with mergeable memory) and always restores every knob and leaves run=0; this suite
 * waits a while for KSM to become idle, and otherwise says that it skipped the kernel and why.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KernelUnavailable, runKernel, type KernelRun } from '../tests/conformance/harness.js';
import { busyReason, unavailableReason } from '../tests/conformance/sysfs.js';
import { staleJournal } from '../tests/conformance/restore.js';
import { median, perSecond, ratio, round, type Context, type Row } from './lib.js';
import { PASS_NAMES, runWorkload, type WorkloadRun } from './run.js';
import { ORACLE_WORKLOADS, warmUp } from './scans.js';
import { guestImage, totalPages, type Workload } from './workloads.js';
import { kernelClock } from './kernel-clock.js';

export const KNOBS = { max_page_sharing: 256, use_zero_pages: 0, smart_scan: 1, stable_node_chains_prune_millisecs: 2000 };
const PASSES = 5;

/** Why the kernel cannot be used now (after waiting up to `seconds` for KSM to be idle), or undefined. */
export async function kernelBlocked(ctx: Context, seconds: number): Promise<string | undefined> {
  const why = unavailableReason();
  if (why) return why;
  const deadline = performance.now() + seconds * 1000;
  let said = 0;
  while (true) {
    let busy: string | undefined;
    try {
      staleJournal(); // throws while another harness run is driving ksmd
      busy = busyReason();
    } catch (error) {
      busy = (error as Error).message;
    }
    if (!busy) return undefined;
    if (performance.now() > deadline) return `${busy} (waited ${seconds} s)`;
    if (performance.now() - said > 10_000) {
      ctx.progress(`KSM is busy (${busy}); waiting up to ${seconds} s`);
      said = performance.now();
    }
    await sleep(1000);
  }
}

/** The engine's CPU ms per pass on `w`: from the scans suite if it ran, else measured now. */
async function enginePasses(ctx: Context, w: Workload): Promise<{ passMs: number[]; settledAt: number; settleMs: number }> {
  const key = (p: number) => `scans.${w.name}.wasm.pass${p}.ms`;
  if (ctx.figures[key(1)] !== undefined) {
    return {
      passMs: Array.from({ length: PASSES }, (_, p) => ctx.figures[key(p + 1)]),
      settledAt: ctx.figures[`scans.${w.name}.settledAt`],
      settleMs: ctx.figures[`scans.${w.name}.wasm.settle.ms`],
    };
  }
  const runs: WorkloadRun[] = [];
  for (let r = 0; r < (ctx.quick ? 1 : 3); r++) runs.push(await runWorkload('wasm', w, { passes: PASSES }));
  return {
    passMs: Array.from({ length: PASSES }, (_, p) => median(runs.map((r) => r.passes[p].ms))),
    settledAt: runs[0].settledAt,
    settleMs: median(runs.map((r) => r.settle.ms)),
  };
}

export async function kernel(ctx: Context): Promise<void> {
  const blocked = await kernelBlocked(ctx, ctx.options.kernelWait);
  if (blocked) {
    ctx.figure('kernel.skipped', 1);
    ctx.note(`KERNEL SUITE SKIPPED: ${blocked}`);
    return;
  }
  // The quick run only puts cloned guests through the kernel (the others take as long again each).
  const workloads = ORACLE_WORKLOADS().filter((w) => !ctx.quick || w.name === 'clones');
  if (ctx.figures['scans.clones.wasm.pass1.ms'] === undefined) await warmUp(ctx, ['wasm']);
  const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-bench-kernel-'));
  const rows: Row[] = [];
  const settleRows: Row[] = [];
  const settleRatios: number[] = [];
  try {
    for (const w of workloads) {
      const images = Array.from({ length: w.guests }, (_, g) => {
        const path = join(dir, `${w.name}-g${g}.img`);
        writeFileSync(path, guestImage(w, g));
        return path;
      });
      const blockedNow = await kernelBlocked(ctx, ctx.options.kernelWait);
      if (blockedNow) { ctx.note(`kernel: ${w.name} skipped: ${blockedNow}`); continue; }
      let k: KernelRun;
      try {
        k = await runKernel(images, { ...KNOBS, pages_to_scan: totalPages(w) + 1 }, { maxScans: PASSES, stableScans: 3, timeoutMs: 120_000 });
      } catch (error) {
        if (error instanceof KernelUnavailable) { ctx.note(`kernel: ${w.name} skipped: ${error.message}`); continue; }
        throw error;
      } finally {
        for (const path of images) rmSync(path, { force: true });
      }
      const engine = await enginePasses(ctx, w);
      const kernelMs = k.scans.map((s, i) => (s.cpuNs - (i ? k.scans[i - 1].cpuNs : 0)) / 1e6);
      for (let p = 0; p < Math.min(PASSES, k.scans.length); p++) {
        const scanned = k.scans[p].counters.pages_scanned - (p ? k.scans[p - 1].counters.pages_scanned : 0);
        ctx.figure(`kernel.${w.name}.pass${p + 1}.cpuMs`, kernelMs[p]);
        rows.push({
          workload: w.name, pass: `${p + 1} ${PASS_NAMES[p]}`, 'pages scanned (kernel)': scanned,
          'ksmd CPU ms': round(kernelMs[p]), 'wasm ms': round(engine.passMs[p]),
          'ksmd M pages/s': round(perSecond(scanned, kernelMs[p]) / 1e6),
          'ksmd ÷ wasm (time)': ratio(kernelMs[p] / engine.passMs[p]),
        });
      }
      const kSettle = k.scans[k.settledAt - 1].cpuNs / 1e6;
      const last = k.scans[k.scans.length - 1].counters;
      ctx.figure(`kernel.${w.name}.settledAt`, k.settledAt);
      ctx.figure(`kernel.${w.name}.settle.cpuMs`, kSettle);
      ctx.figure(`kernel.${w.name}.settleOverEngine`, kSettle / engine.settleMs);
      ctx.figure(`kernel.${w.name}.engine.settle.ms`, engine.settleMs);
      ctx.figure(`kernel.${w.name}.engine.settledAt`, engine.settledAt);
      settleRatios.push(kSettle / engine.settleMs);
      settleRows.push({
        workload: w.name, pages: totalPages(w),
        'ksmd settled after pass': k.settledAt, 'wasm settled after pass': engine.settledAt,
        'ksmd CPU to settle ms': round(kSettle), 'wasm to settle ms': round(engine.settleMs),
        'ksmd ÷ wasm': ratio(kSettle / engine.settleMs),
        'kernel end state shared/sharing/unshared+volatile': `${last.pages_shared}/${last.pages_sharing}/${last.pages_unshared + last.pages_volatile}`,
        'batches': k.scans[k.scans.length - 1].batches, 'repokes': k.repokes,
      });
      ctx.progress(`kernel ${w.name}: ${kernelMs.map(round).join(' ')} ms per pass, settled at ${k.settledAt}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (rows.length === 0) { ctx.figure('kernel.skipped', 1); return; }
  ctx.figure('kernel.settleOverEngine.min', Math.min(...settleRatios));
  ctx.table('ksmd (this machine\'s kernel) against the wasm engine, pass by pass (ksmd: CPU ms from /proc/<ksmd>/schedstat; wasm: main-thread ms)', rows);
  ctx.table('Time to the settled merge state: ksmd CPU against the engine\'s, same images', settleRows);
  ctx.note('Kernel: one run per workload (step mode, one batch per full pass). Engine: the scans suite\'s medians (or runs made here if that suite did not run).');
  if (ctx.quick) ctx.note('Quick run: cloned guests only; the full run puts all four workloads through the kernel.');
  ctx.note('Guest loading (page faults, copying the image in) is outside both figures.');
  if (!await kernelBlocked(ctx, ctx.options.kernelWait)) await kernelClock(ctx);
}
