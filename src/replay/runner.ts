/**
 * Replays a script through the engine the way ksm_script.py drives the kernel:
 *
 * - setup: the knobs (the oracle's defaults, then the script's) while nothing is merged and run=0,
 *   then the guests in order, each a space whose every page is written, then madvised and/or
 *   merge-any'd per its flags (so the slot list, hence the scan order, is guest0, guest1, ...);
 * - `scan N`: batches until N passes have ended, a snapshot after each pass; `batch N`: N
 *   batches, a snapshot after each. The first of them writes run=1. A batch that does not run
 *   (no registered space) ends the step (`stopped_reason`), as does run != 1 once started;
 * - ops run between batches, while ksmd sleeps. Only run=1 written to a stopped ksmd starts a
 *   batch at once (`batches_during_op`). A knob write the kernel refuses is recorded as its errno
 *   name and the replay goes on;
 * - after every step: a snapshot, the contents check (every live guest reads back what was
 *   written) and the step's expectations.
 *
 * Time does not pass: the engine's clock stays at 0, so no stable node chain is pruned by time
 * (the kernel's scripts run in well under stable_node_chains_prune_millisecs).
 *
 * Where the record cannot equal the kernel's: pages_scanned, pages_skipped and cow_ksm count
 * from 0 here but since boot on the host (compare their changes, `d.NAME`); sleep_millisecs is
 * ours, not the oracle's stepping clock; a merge_any op's `isolate` is ignored (it concerns the
 * oracle's Python heap, which has no counterpart here).
 */
import type { EngineName } from '../backend.js';
import { Ksm } from '../ksm.js';
import type { AddressSpace } from '../space.js';
import { KsmError } from '../errors.js';
import { PAGE_SIZE } from '../backend.js';
import { SYSFS_KNOB_NAMES, type SysfsKnobName } from '../knobs.js';
import { blake2bHex } from './blake2b.js';
import { checkExpect, type ExpectOutcome } from './expect.js';
import { checkSteps, scriptError, SCRIPT_KNOB_DEFAULTS, type Op, type Script } from './script.js';
import { ksmErrorText } from '../cli/errors.js';
import { engineMemoryFor } from '../cli/memory.js';
import { Snapper, type ReplayGuest, type Snapshot } from './snapshot.js';
import { PageContent } from '../pagespec.js';

export interface ReplayOptions {
  /** Guest images (with `--images`): they replace the script's page specs; the script's guests give the flags. */
  images?: Uint8Array[];
  /** Where the images came from, for the result. */
  imagesPath?: string;
  scriptPath?: string;
  engine?: 'wasm' | 'reference';
  /** Called after each step with its record (progress output). */
  onStep?: (step: StepRecord, guests: readonly ReplayGuest[]) => void;
}

export interface StepRecord {
  index: number;
  step: Record<string, unknown>;
  kind: 'scan' | 'batch' | 'op';
  result?: Record<string, unknown> & { error?: string | null };
  snapshots: Snapshot[];
  batches_during_op?: number;
  batches_done?: number;
  scans_done?: number;
  stopped_reason?: string;
  contents_ok: boolean;
  contents_mismatch?: { guest: number; page: number; expected: string; got: string }[];
  expect?: Record<string, ExpectOutcome>;
  expect_ok?: boolean;
}

export interface ReplayResult {
  tool: 'ksm-wasm replay';
  /** The oracle's result format, which this one follows key by key where it can. */
  format: 'ksm-script-result/1';
  engine: EngineName;
  script_path: string | null;
  script: Record<string, unknown>;
  images: string | null;
  knobs_requested: Record<string, number | string>;
  knobs_used: Record<string, number | string>;
  snapshot0: Snapshot;
  steps: StepRecord[];
  final_stopped_snapshot: Snapshot;
  guests: { index: number; pages: number; parent: number | null; born_at_step: number | null; died_at_step: number | null }[];
  expectations: { total: number; failed: number };
  contents_all_ok: boolean;
  reason: 'completed';
}

/** Page digest as the oracle reports it (BLAKE2b, 8 bytes). */
export const pageDigest = (page: Uint8Array): string => blake2bHex(page, 8);

/**
 * Everything before the first step: the script checked against the guests' shapes, the knobs
 * written, the guests created. Bad input throws a scriptError (a CliError) here, before any output.
 */
export async function prepareReplay(script: Script, options: ReplayOptions = {}): Promise<PreparedReplay> {
  const setups = guestSetups(script, options.images);
  const everyGuestPages = checkSteps(script, setups.map((g) => g.image.length / PAGE_SIZE));
  // Each page of every guest (forks too) may get a private copy beside a KSM page: twice their pages in frames at most.
  const maxMemory = engineMemoryFor(2 * everyGuestPages);
  const ksm = await Ksm.create({ engine: options.engine ?? 'wasm', maxMemory, clock: () => 0 });
  for (const [name, value] of Object.entries(script.knobs)) {
    try {
      ksm.writeSysfs(name as SysfsKnobName, value);
    } catch (error) {
      if (error instanceof KsmError) throw scriptError(`knobs: ${name}=${JSON.stringify(value)} refused: ${ksmErrorText(error)}`);
      throw error;
    }
  }
  const knobsUsed: Record<string, number | string> = {};
  for (const name of Object.values(SYSFS_KNOB_NAMES).sort()) knobsUsed[name] = readKnob(ksm, name);

  const guests: ReplayGuest[] = setups.map((g, index) => {
    let space: AddressSpace;
    try {
      space = ksm.createSpace({ name: `g${index}`, image: g.image, mergeable: g.madvise });
      if (g.mergeAny) space.setMergeAny(true);
    } catch (error) {
      if (error instanceof KsmError) throw scriptError(`guest ${index}: ${ksmErrorText(error)}`);
      throw error;
    }
    const pages = g.image.length / PAGE_SIZE;
    const expected = Array.from({ length: pages }, (_, p) => g.image.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE));
    return { index, space, pages, alive: true, expected, readFaulted: new Uint8Array(pages), parent: null, bornAtStep: null, diedAtStep: null };
  });
  return { script, options, ksm, guests, knobsUsed };
}

export interface PreparedReplay {
  script: Script;
  options: ReplayOptions;
  ksm: Ksm;
  guests: ReplayGuest[];
  knobsUsed: Record<string, number | string>;
}

/** Runs a parsed script. Bad input throws a scriptError (a CliError) before anything is replayed. */
export async function replay(script: Script, options: ReplayOptions = {}): Promise<ReplayResult> {
  return runPrepared(await prepareReplay(script, options));
}

/** Runs the steps of a prepared replay (once). */
export function runPrepared({ script, options, ksm, guests, knobsUsed }: PreparedReplay): ReplayResult {
  const snapper = new Snapper(ksm, guests);
  const snapshot0 = snapper.take();
  const runner = new StepRunner(ksm, guests, snapper, new PageContent(script.seed));
  const steps: StepRecord[] = [];
  let prev = snapshot0;
  for (const [index, step] of script.steps.entries()) {
    const record: StepRecord = { index, step: step.raw, kind: step.action.kind, snapshots: [], contents_ok: true };
    const { action } = step;
    if (action.kind === 'op') {
      const { kind: _, ...op } = action;
      record.result = runner.op(op as Op, record);
      record.snapshots = [snapper.take()];
    } else {
      record.snapshots = runner.batches(action.count, action.kind === 'scan', record);
    }
    const last = record.snapshots.at(-1) ?? prev;
    const mismatch = runner.verifyContents();
    record.contents_ok = mismatch.length === 0;
    if (mismatch.length) record.contents_mismatch = mismatch;
    if (step.expect) {
      record.expect = checkExpect(step.expect, last, prev, record);
      record.expect_ok = Object.values(record.expect).every((e) => e.ok);
    }
    steps.push(record);
    options.onStep?.(record, guests);
    prev = last;
  }
  ksm.setKnob('run', 0);
  const finalSnapshot = snapper.take();

  const outcomes = steps.flatMap((s) => Object.values(s.expect ?? {}));
  return {
    tool: 'ksm-wasm replay',
    format: 'ksm-script-result/1',
    engine: ksm.engine,
    script_path: options.scriptPath ?? null,
    script: script.raw,
    images: options.imagesPath ?? null,
    knobs_requested: { ...SCRIPT_KNOB_DEFAULTS, ...script.knobs },
    knobs_used: knobsUsed,
    snapshot0,
    steps,
    final_stopped_snapshot: finalSnapshot,
    guests: guests.map((g) => ({ index: g.index, pages: g.pages, parent: g.parent, born_at_step: g.bornAtStep, died_at_step: g.diedAtStep })),
    expectations: { total: outcomes.length, failed: outcomes.filter((o) => !o.ok).length },
    contents_all_ok: steps.every((s) => s.contents_ok),
    reason: 'completed',
  };
}

/** A sysfs file's value as the oracle parses it: a number, or advisor_mode's selected word. */
function readKnob(ksm: Ksm, name: string): number | string {
  const text = ksm.readSysfs(name as SysfsKnobName).trim();
  if (/^-?\d+$/.test(text)) return Number(text);
  return /\[([^\]]*)\]/.exec(text)?.[1] ?? text;
}

interface GuestSetup { image: Uint8Array; madvise: boolean; mergeAny: boolean }

function guestSetups(script: Script, images: Uint8Array[] | undefined): GuestSetup[] {
  const content = new PageContent(script.seed);
  if (images) {
    if (images.length === 0) throw scriptError('no guest images given');
    return images.map((image, i) => {
      if (image.length === 0 || image.length % PAGE_SIZE !== 0) throw scriptError(`guest${i}.img: size ${image.length} is not a positive multiple of ${PAGE_SIZE}`);
      const header = script.guests[i];
      return { image, madvise: header?.madvise ?? true, mergeAny: header?.mergeAny ?? false };
    });
  }
  if (script.guests.length === 0) throw scriptError('the script has no guests (and no --images were given)');
  return script.guests.map((g, i) => {
    if (!g.pages || g.pages.length === 0) throw scriptError(`guests[${i}] has no pages (give "pages", or --images)`);
    const image = new Uint8Array(g.pages.length * PAGE_SIZE);
    g.pages.forEach((spec, p) => image.set(content.page(spec), p * PAGE_SIZE));
    return { image, madvise: g.madvise, mergeAny: g.mergeAny };
  });
}

/** The harness side: ops on guests, batches of ksmd, the contents check. */
class StepRunner {
  /** run=1 has been written at least once (before that, the first scan or batch writes it). */
  #started = false;

  constructor(
    private readonly ksm: Ksm,
    private readonly guests: ReplayGuest[],
    private readonly snapper: Snapper,
    private readonly content: PageContent,
  ) {}

  /** `count` batches, or (untilScans) as many batches as `count` passes take. */
  batches(count: number, untilScans: boolean, record: StepRecord): Snapshot[] {
    const snaps: Snapshot[] = [];
    let batches = 0;
    let scans = 0;
    while ((untilScans ? scans : batches) < count) {
      const run = this.ksm.knobs.run;
      if (run !== 1 && this.#started) {
        record.stopped_reason = `run=${run}`;
        break;
      }
      if (!this.#started) {
        this.ksm.setKnob('run', 1);
        this.#started = true;
      }
      const outcome = this.ksm.scan();
      if (!outcome.ran) {
        record.stopped_reason = 'no batch ran (no registered mm?)';
        break;
      }
      batches++;
      if (outcome.fullScan) scans++;
      if (outcome.fullScan || !untilScans) snaps.push(this.snapper.take({ batch_in_step: batches, scan_completed: outcome.fullScan }));
    }
    record.batches_done = batches;
    record.scans_done = scans;
    return snaps;
  }

  /**
   * One op. `batches_during_op` is the oracle's: for run=1 written to a stopped ksmd, whether the
   * batch it starts ran; for any other op, whether ksmd's progress counters (full_scans,
   * pages_scanned, pages_skipped) moved during the op. So run=2, which resets full_scans, counts
   * as 1 although no batch runs (the kernel's record says the same).
   */
  op(op: Op, record: StepRecord): Record<string, unknown> {
    const progress = (): string => { const s = this.ksm.stats(); return `${s.fullScans}/${s.pagesScanned}/${s.pagesSkipped}`; };
    const before = progress();
    const result = this.#op(op, record);
    // The first space registered while ksmd waits for work wakes it, and it scans at once.
    if (this.ksm.takeKsmdWakeup()) this.ksm.scan();
    record.batches_during_op ??= progress() === before ? 0 : 1;
    return result;
  }

  #op(op: Op, record: StepRecord): Record<string, unknown> {
    if (op.op === 'knob') return this.#knob(op, record);
    const g = this.guests[op.guest];
    try {
      switch (op.op) {
        case 'write':
        case 'write_byte': {
          let page: Uint8Array;
          if (op.op === 'write') {
            page = op.content === 'same' ? g.expected[op.page]!.slice() : this.content.page(op.content);
            g.space.write(op.page, page, 0);
          } else {
            g.space.write(op.page, Uint8Array.of(op.value), op.offset);
            page = g.expected[op.page]?.slice() ?? new Uint8Array(PAGE_SIZE);
            page[op.offset] = op.value;
          }
          g.expected[op.page] = page;
          g.readFaulted[op.page] = 0;
          return { digest: pageDigest(g.space.read(op.page)), ok: true };
        }
        case 'read':
          if (g.space.pageInfo(op.page).mapping === 'absent') g.readFaulted[op.page] = 1;
          return { digest: pageDigest(g.space.read(op.page)), ok: true };
        case 'mergeable':
        case 'unmergeable':
        case 'dontneed':
        case 'munmap':
          if (op.op === 'munmap') g.space.unmap(op.first, op.count);
          else g.space.madvise(op.first, op.count, op.op);
          if (op.op === 'dontneed' || op.op === 'munmap') {
            g.expected.fill(null, op.first, op.first + op.count);
            g.readFaulted.fill(0, op.first, op.first + op.count);
          }
          return { rc: 0, error: null, ok: true };
        case 'merge_any':
          g.space.setMergeAny(op.value === 1);
          return { rc: 0, error: null, get: g.space.mergeAny ? 1 : 0, ok: true };
        case 'fork': {
          const index = this.guests.length;
          const space = g.space.fork(`g${index}`);
          this.guests.push({
            index, space, pages: g.pages, alive: true, expected: g.expected.slice(), readFaulted: g.readFaulted.slice(),
            parent: g.index, bornAtStep: record.index, diedAtStep: null,
          });
          return { ok: true, new_guest: index };
        }
        case 'exit':
          g.space.close();
          g.alive = false;
          g.diedAtStep = record.index;
          return { ok: true, exited: true };
      }
    } catch (error) {
      // The checks of script.ts leave only the engine's own refusals (ENOMEM): recorded as the kernel's would be.
      if (error instanceof KsmError) return { ok: false, rc: -1, error: error.code, message: error.message };
      throw error;
    }
  }

  #knob(op: Extract<Op, { op: 'knob' }>, record: StepRecord): Record<string, unknown> {
    const read = (): number | string => readKnob(this.ksm, op.name);
    const before = read();
    let error: string | null = null;
    try {
      this.ksm.writeSysfs(op.name as SysfsKnobName, op.value);
    } catch (e) {
      if (!(e instanceof KsmError)) throw e;
      error = e.code;
    }
    const result: Record<string, unknown> = { ok: true, error, before, after: read() };
    if (op.name === 'run' && error === null) {
      const now = this.ksm.knobs.run;
      if (now === 1 && before !== 1) {
        // run=1 wakes a stopped ksmd, which runs one batch at once.
        this.#started = true;
        record.batches_during_op = this.ksm.scan().ran ? 1 : 0;
      } else if (now !== 1 && before === 1) {
        result.parked = true;
      }
    }
    return result;
  }

  /** Every live guest's pages against what was written (pages dropped by dontneed or munmap are not read). */
  verifyContents(): NonNullable<StepRecord['contents_mismatch']> {
    const mismatch: NonNullable<StepRecord['contents_mismatch']> = [];
    for (const g of this.guests) {
      if (!g.alive) continue;
      for (const [p, want] of g.expected.entries()) {
        if (!want) continue;
        const got = g.space.read(p);
        if (!bytesEqual(got, want)) mismatch.push({ guest: g.index, page: p, expected: pageDigest(want), got: pageDigest(got) });
      }
    }
    return mismatch;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
