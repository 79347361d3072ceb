/**
 * The kernel side of the live replay test: runs a replay script (src/replay's format) on the real
 * ksmd of this machine, one batch at a time, and records after every step what `ksm-wasm replay`
 * records through the engine: every /sys/kernel/mm/ksm file, cow_ksm, and each guest's ksm_stat.
 *
 * - Guests are ksm_script_guest.c processes taking commands over an AF_UNIX stream socket that
 *   this harness listens on (a forked guest connects anew and becomes guest len(guests)). Each
 *   guest maps its pages, the harness writes every page (page specs of src/pagespec.ts), then
 *   madvises it MADV_MERGEABLE if the script says so, one guest after the other (so ksmd's mm list,
 *   hence the scan order, is the guest order, as in the engine).
 * - Knobs: run=2 (nothing merged, full_scans 0), the given knob values (the engine's, so both run
 *   with the same), sleep_millisecs 600000 (step mode), run=0. The first `scan`/`batch` writes run=1,
 *   which starts one batch; every later batch is one rewrite of sleep_millisecs (600000 <-> 600001).
 * - Ops run while ksmd sleeps between batches. `exit` waits until the guest's socket is closed
 *   (do_exit drops the mm before the files) and the process is gone or a zombie.
 * - Always (finally, and on SIGINT/SIGTERM/SIGHUP): guests SIGKILLed by pid, run=2, every knob
 *   restored from the journal of restore.ts, run back to 0.
 *
 * Not supported here (thrown as errors): `read` (would need the page map), `merge_any` (a C
 * guest's other VMAs would join), `knob run` (the stepping owns run), images.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as osConstants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { PageContent } from '../../src/pagespec.js';
import type { Op, Script } from '../../src/replay/script.js';
import { buildGuest } from './guests.js';
import { findKsmd, ksmdState } from './ksmd.js';
import { restoreKnobs, staleJournal, writeJournal } from './restore.js';
import { busyReason, KSM_DIR, readKnob, readKsm, readKsmStat, saveKnobs, unavailableReason, writeKnob } from './sysfs.js';
import { KernelUnavailable } from './harness.js';

const SOURCE = fileURLToPath(new URL('./ksm_script_guest.c', import.meta.url));
const STEP_SLEEP = [600000, 600001];
const PAGE = 4096;
const MADV = { mergeable: 12, unmergeable: 13, dontneed: 4 } as const;

export interface LiveSnapshot {
  ksm: Record<string, number | string>;
  cow_ksm: number;
  guests: { alive: boolean; ksm_stat?: Record<string, number> }[];
}

export interface LiveStep {
  index: number;
  kind: 'scan' | 'batch' | 'op';
  snapshots: LiveSnapshot[];
  error?: string | null;
  batches_done?: number;
  scans_done?: number;
  stopped_reason?: string;
  contents_ok: boolean;
}

export interface LiveRun { snapshot0: LiveSnapshot; steps: LiveStep[]; repokes: number; contentsOk: boolean }

interface LiveGuest {
  index: number;
  pid: number;
  socket: Socket;
  lines: string[];
  waiters: ((line: string | null) => void)[];
  closed: boolean;
  alive: boolean;
  /** What each page must hold; null once dropped (dontneed, munmap). */
  expected: (Uint8Array | null)[];
}

export function fnv1a64(page: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const b of page) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

/** Runs the script on the real ksmd with these knob values (sysfs names); throws KernelUnavailable if it must not. */
export async function runLive(script: Script, knobs: Record<string, number | string>): Promise<LiveRun> {
  const why = unavailableReason();
  if (why) throw new KernelUnavailable(why);
  const stale = staleJournal();
  if (stale) restoreKnobs(stale);
  const busy = busyReason();
  if (busy) throw new KernelUnavailable(busy);
  const binary = buildGuest(SOURCE);
  const saved = saveKnobs();
  writeJournal(saved);
  const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-live-'));
  const h = new Harness(binary, join(dir, 'guests.sock'), script);
  const stop = { signal: '' };
  const onSignal = (signal: string) => { stop.signal = signal; h.stopped = signal; };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  try {
    writeKnob('run', 2);
    if (readKnob('advisor_mode') !== 'none') writeKnob('advisor_mode', 'none');
    for (const [name, value] of Object.entries(knobs)) {
      if (['run', 'sleep_millisecs', 'advisor_mode'].includes(name)) continue;
      if (readKnob(name) !== String(value)) writeKnob(name, value);
    }
    writeKnob('sleep_millisecs', STEP_SLEEP[0]);
    writeKnob('run', 0);
    return await h.run();
  } finally {
    // Every guest gone before run=2: a dying process's KSM pages would outlive the unmerge, and
    // the EBUSY knobs (max_page_sharing, merge_across_nodes) would then refuse their old values.
    await h.killAll();
    try { writeKnob('run', 2); } catch { /* restoreKnobs retries */ }
    const left = restoreKnobs(saved);
    await h.close();
    rmSync(dir, { recursive: true, force: true });
    for (const s of signals) process.off(s, onSignal);
    if (left.length) throw new Error(`KSM knobs NOT restored: ${left.join('; ')} (run node --import tsx tests/conformance/restore.ts)`);
    if (stop.signal) { process.exitCode = 130; throw new Error(`interrupted by ${stop.signal} (KSM was restored)`); }
  }
}

class Harness {
  stopped = '';
  readonly guests: LiveGuest[] = [];
  readonly #server: Server;
  readonly #hellos = new Map<number, (g: { socket: Socket; rest: string[] }) => void>();
  readonly #early = new Map<number, { socket: Socket; rest: string[] }>();
  readonly #content: PageContent;
  readonly #pids: number[] = [];
  #started = false;
  #pokes = 0;
  #ksmd = findKsmd();
  #base: Record<string, number> = {};
  repokes = 0;

  constructor(private readonly binary: string, private readonly path: string, private readonly script: Script) {
    this.#content = new PageContent(script.seed);
    this.#server = createServer((socket) => this.#accept(socket));
  }

  #accept(socket: Socket): void {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      socket.off('data', onData);
      socket.pause();
      const m = /^hello (\d+) ([0-9a-f]+)$/.exec(text.slice(0, nl));
      if (!m) { socket.destroy(); return; }
      const pid = Number(m[1]);
      const rest = text.slice(nl + 1) ? [text.slice(nl + 1)] : [];
      const waiter = this.#hellos.get(pid);
      if (waiter) waiter({ socket, rest }); else this.#early.set(pid, { socket, rest });
    };
    socket.on('data', onData);
  }

  #hello(pid: number): Promise<{ socket: Socket; rest: string[] }> {
    const early = this.#early.get(pid);
    if (early) { this.#early.delete(pid); return Promise.resolve(early); }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`guest pid ${pid} did not connect in 10 s`)), 10_000);
      this.#hellos.set(pid, (g) => { clearTimeout(timer); this.#hellos.delete(pid); resolve(g); });
    });
  }

  #attach(index: number, pid: number, socket: Socket, rest: string[], expected: (Uint8Array | null)[]): LiveGuest {
    const g: LiveGuest = { index, pid, socket, lines: [], waiters: [], closed: false, alive: true, expected };
    let text = rest.join('');
    const push = (line: string | null) => { const w = g.waiters.shift(); if (w) w(line); else if (line !== null) g.lines.push(line); };
    const drain = () => { let nl; while ((nl = text.indexOf('\n')) >= 0) { push(text.slice(0, nl)); text = text.slice(nl + 1); } };
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); drain(); });
    socket.on('close', () => { g.closed = true; while (g.waiters.length) g.waiters.shift()!(null); });
    socket.on('error', () => { /* close follows */ });
    socket.resume();
    drain();
    this.#pids.push(pid);
    return g;
  }

  async #ask(g: LiveGuest, line: string, payload?: Uint8Array): Promise<string> {
    const answer = new Promise<string | null>((resolve) => {
      const queued = g.lines.shift();
      if (queued !== undefined) resolve(queued); else if (g.closed) resolve(null); else g.waiters.push(resolve);
    });
    g.socket.write(`${line}\n`);
    if (payload) g.socket.write(payload);
    const reply = await answer;
    if (reply === null) throw new Error(`guest ${g.index} (pid ${g.pid}) closed its socket on "${line}"`);
    return reply;
  }

  async run(): Promise<LiveRun> {
    await new Promise<void>((resolve, reject) => { this.#server.once('error', reject); this.#server.listen(this.path, resolve); });
    for (const [index, header] of this.script.guests.entries()) {
      if (!header.pages) throw new Error('the live harness takes page specs, not images');
      if (header.mergeAny) throw new Error('the live harness does not do merge_any');
      const child = spawn(this.binary, [this.path, String(header.pages.length)], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', () => { /* the hello times out */ });
      const { socket, rest } = await this.#hello(child.pid!);
      const g = this.#attach(index, child.pid!, socket, rest, []);
      this.guests.push(g);
      for (const [p, spec] of header.pages.entries()) {
        const bytes = this.#content.page(spec);
        g.expected[p] = bytes;
        this.#ok(g, await this.#ask(g, `W ${p}`, bytes), 'write');
      }
      if (header.madvise) this.#ok(g, await this.#ask(g, `M ${MADV.mergeable} 0 ${header.pages.length}`), 'madvise');
    }
    this.#base = this.#counters();
    const snapshot0 = this.#snap();
    const steps: LiveStep[] = [];
    for (const [index, step] of this.script.steps.entries()) {
      if (this.stopped) throw new Error(`interrupted by ${this.stopped}`);
      const { action } = step;
      const record: LiveStep = { index, kind: action.kind, snapshots: [], contents_ok: true };
      if (action.kind === 'op') {
        const { kind: _, ...op } = action;
        record.error = await this.#op(op as Op, index);
        await this.#wokenBatchDone();
        record.snapshots = [this.#snap()];
      } else {
        await this.#batches(action.count, action.kind === 'scan', record);
      }
      record.contents_ok = await this.#contentsOk();
      steps.push(record);
    }
    return { snapshot0, steps, repokes: this.repokes, contentsOk: steps.every((s) => s.contents_ok) };
  }

  #ok(g: LiveGuest, reply: string, what: string): void {
    if (reply !== 'ok') throw new Error(`guest ${g.index}: ${what} failed: ${reply}`);
  }

  async #op(op: Op, index: number): Promise<string | null> {
    if (op.op === 'knob') {
      if (op.name === 'run') throw new Error('the live harness does not take run as a knob op');
      try { writeKnob(op.name, op.value); return null; } catch (error) { return (error as NodeJS.ErrnoException).code ?? String(error); }
    }
    const g = this.guests[op.guest];
    if (!g?.alive) throw new Error(`step ${index}: guest ${op.guest} is not alive`);
    switch (op.op) {
      case 'write': {
        // "same": the page's current bytes written back (a write fault all the same).
        const bytes = op.content === 'same' ? (g.expected[op.page] ?? new Uint8Array(PAGE)).slice() : this.#content.page(op.content);
        g.expected[op.page] = bytes;
        this.#ok(g, await this.#ask(g, `W ${op.page}`, bytes), 'write');
        return null;
      }
      case 'write_byte':
      {
        this.#ok(g, await this.#ask(g, `B ${op.page} ${op.offset} ${op.value}`), 'write_byte');
        const bytes = (g.expected[op.page] ?? new Uint8Array(PAGE)).slice();
        bytes[op.offset] = op.value;
        g.expected[op.page] = bytes;
        return null;
      }
      case 'mergeable':
      case 'unmergeable':
      case 'dontneed':
      case 'munmap': {
        const reply = await this.#ask(g, op.op === 'munmap' ? `U ${op.first} ${op.count}` : `M ${MADV[op.op]} ${op.first} ${op.count}`);
        if (op.op === 'dontneed' || op.op === 'munmap') g.expected.fill(null, op.first, op.first + op.count);
        return reply === 'ok' ? null : errnoName(Number(reply.slice(4)));
      }
      case 'fork': {
        const reply = await this.#ask(g, 'F');
        const m = /^ok (\d+)$/.exec(reply);
        if (!m) throw new Error(`guest ${g.index}: fork failed: ${reply}`);
        const { socket, rest } = await this.#hello(Number(m[1]));
        this.guests.push(this.#attach(this.guests.length, Number(m[1]), socket, rest, g.expected.slice()));
        return null;
      }
      case 'exit': {
        g.socket.write('X\n');
        const deadline = performance.now() + 10_000;
        while (!g.closed || !gone(g.pid)) {
          if (performance.now() > deadline) throw new Error(`guest ${g.index} (pid ${g.pid}) did not exit in 10 s`);
          await sleep(1);
        }
        g.alive = false;
        return null;
      }
      default:
        throw new Error(`the live harness does not do ${op.op}`);
    }
  }

  /** Every live guest's pages hash as what was written (dropped pages are not read: that would fault them in). */
  async #contentsOk(): Promise<boolean> {
    for (const g of this.guests) {
      if (!g.alive) continue;
      for (const [p, want] of g.expected.entries()) {
        if (!want) continue;
        const reply = await this.#ask(g, `H ${p}`);
        if (reply !== `ok ${fnv1a64(want)}`) return false;
      }
    }
    return true;
  }

  async #batches(count: number, untilScans: boolean, record: LiveStep): Promise<void> {
    let batches = 0;
    let scans = 0;
    while ((untilScans ? scans : batches) < count) {
      const outcome = await this.#oneBatch();
      if (!outcome.ran) { record.stopped_reason = 'no batch ran (no registered mm?)'; break; }
      batches++;
      if (outcome.fullScan) scans++;
      if (outcome.fullScan || !untilScans) record.snapshots.push(this.#snap());
    }
    record.batches_done = batches;
    record.scans_done = scans;
  }

  /**
   * An operation that registered the first mm woke ksmd (the kernel's __ksm_enter), which is
   * runnable from then on until its batch is done: wait for that batch before the snapshot, or a
   * loaded machine shows the state before it. A ksmd that was not woken is asleep already.
   */
  async #wokenBatchDone(): Promise<void> {
    const deadline = performance.now() + 10_000;
    while (!ksmdState(this.#ksmd).asleep) {
      if (performance.now() > deadline) throw new Error('ksmd, woken by a registration, did not finish its batch in 10 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** One batch of the real ksmd: run=1 the first time, then a rewrite of sleep_millisecs; waits until it sleeps again. */
  async #oneBatch(): Promise<{ ran: boolean; fullScan: boolean }> {
    const before = ksmdState(this.#ksmd);
    const c0 = this.#counters();
    const poke = () => {
      if (!this.#started) { writeKnob('run', 1); this.#started = true; } else writeKnob('sleep_millisecs', STEP_SLEEP[++this.#pokes % 2]);
    };
    poke();
    let pokedAt = performance.now();
    let repoked = false;
    for (;;) {
      const now = ksmdState(this.#ksmd);
      const c = this.#counters();
      const moved = c.full_scans !== c0.full_scans || c.pages_scanned !== c0.pages_scanned;
      if (moved && now.asleep && now.runs !== before.runs) return { ran: true, fullScan: c.full_scans !== c0.full_scans };
      const t = performance.now();
      if (!moved && t - pokedAt > 1000) {
        if (repoked) return { ran: false, fullScan: false };
        this.repokes++;
        repoked = true;
        writeKnob('sleep_millisecs', STEP_SLEEP[++this.#pokes % 2]);
        pokedAt = t;
      }
      if (t - pokedAt > 10_000) throw new Error('ksmd did not finish a batch in 10 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of ['full_scans', 'pages_scanned', 'pages_skipped']) out[f] = Number(readKsm(f));
    return out;
  }

  #snap(): LiveSnapshot {
    const ksm: Record<string, number | string> = {};
    for (const f of readdirSync(KSM_DIR).sort()) {
      const text = readKnob(f);
      ksm[f] = /^-?\d+$/.test(text) ? Number(text) : text;
    }
    ksm.pages_scanned = (ksm.pages_scanned as number) - (this.#base.pages_scanned ?? 0);
    ksm.pages_skipped = (ksm.pages_skipped as number) - (this.#base.pages_skipped ?? 0);
    return {
      ksm,
      cow_ksm: cowKsm(),
      guests: this.guests.map((g) => (g.alive ? { alive: true, ksm_stat: readKsmStat(g.pid) } : { alive: false })),
    };
  }

  /** SIGKILLs every guest by pid and waits (up to 10 s) until each is gone or a zombie, so its mm is freed. */
  async killAll(): Promise<void> {
    for (const pid of this.#pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    const deadline = performance.now() + 10_000;
    while (this.#pids.some((pid) => !gone(pid)) && performance.now() < deadline) await sleep(1);
  }

  async close(): Promise<void> {
    for (const g of this.guests) g.socket.destroy();
    for (const { socket } of this.#early.values()) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function cowKsm(): number {
  const m = /^cow_ksm (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Gone, or a zombie (do_exit has dropped the mm by then). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch { return true; }
}

function errnoName(errno: number): string {
  const entry = Object.entries(osConstants.errno).find(([, n]) => n === errno);
  return entry ? entry[0] : `errno ${errno}`;
}
