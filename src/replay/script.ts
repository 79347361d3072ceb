/**
 * The oracle's script format (oracle/README.md, "Scripted mode"), parsed and checked in full before
 * anything runs: a bad script is refused with one message naming the step and the problem, and
 * nothing is replayed. The check walks the steps with the guests' shapes (forks add guests, exits
 * end them, munmap and dontneed take pages away), so "guest out of range" and "op on an exited
 * guest" are found here, not half-way through a replay.
 */
import { SYSFS_KNOB_NAMES } from '../knobs.js';
import { SYSFS_COUNTER_NAMES } from '../stats.js';
import { PAGE_SIZE } from '../backend.js';
import { expandPages, specProblem } from '../pagespec.js';
import { CliError } from '../cli/errors.js';

/** A script that cannot be replayed: an input error, naming the offending step if there is one. */
export function scriptError(message: string, step?: number): CliError {
  return new CliError('input', step === undefined ? message : `step ${step}: ${message}`);
}

export const OPS = ['write', 'write_byte', 'read', 'mergeable', 'unmergeable', 'dontneed', 'munmap', 'fork', 'exit', 'merge_any', 'knob'] as const;
export type OpName = typeof OPS[number];
export type RangeOpName = 'mergeable' | 'unmergeable' | 'dontneed' | 'munmap';

export type Op =
  | { op: 'write'; guest: number; page: number; content: string }
  | { op: 'write_byte'; guest: number; page: number; offset: number; value: number }
  | { op: 'read'; guest: number; page: number }
  | { op: RangeOpName; guest: number; first: number; count: number }
  | { op: 'fork' | 'exit'; guest: number }
  | { op: 'merge_any'; guest: number; value: 0 | 1 }
  | { op: 'knob'; name: string; value: number | string };

export type StepAction = { kind: 'scan' | 'batch'; count: number } | ({ kind: 'op' } & Op);

export interface Step {
  action: StepAction;
  note?: string;
  expect?: Record<string, unknown>;
  /** The step as written in the script (echoed in the results). */
  raw: Record<string, unknown>;
}

export interface GuestHeader {
  /** Page specs, expanded (undefined when the guest comes from an image). */
  pages?: string[];
  madvise: boolean;
  mergeAny: boolean;
}

export interface Script {
  name: string;
  seed: number | string;
  /** Knobs written before the guests start, the oracle's defaults first. */
  knobs: Record<string, number | string>;
  guests: GuestHeader[];
  steps: Step[];
  raw: Record<string, unknown>;
}

/** The oracle's knob defaults for scripts (pages_to_scan 20000: one batch is one pass for small guests). */
export const SCRIPT_KNOB_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  pages_to_scan: 20000, use_zero_pages: 0, smart_scan: 1, max_page_sharing: 256,
});

/** Knobs a script may write (sleep_millisecs is the oracle's stepping clock). */
const SCRIPTABLE_KNOBS = new Set<string>(Object.values(SYSFS_KNOB_NAMES).filter((k) => k !== 'sleep_millisecs'));
const SYSFS_FILES = new Set<string>([...Object.values(SYSFS_COUNTER_NAMES), ...Object.values(SYSFS_KNOB_NAMES)]);
const SNAPSHOT_NUMBERS = new Set(['rmap_items', 'rmap_items_live_sum', 'cow_ksm', 'ksm_swpin_copy']);
const STEP_KEYS = new Set(['error', 'contents_ok', 'batches_during_op', 'scans_done', 'batches_done']);
export const KSM_STAT_FIELDS = ['ksm_rmap_items', 'ksm_zero_pages', 'ksm_merging_pages', 'ksm_process_profit', 'ksm_merge_any', 'ksm_mergeable'] as const;
const GUEST_FIELDS = new Set<string>([...KSM_STAT_FIELDS, 'map', 'smaps_ksm_kb', 'alive']);

/** Why an expect key is not one the oracle checks, or undefined. */
export function expectKeyProblem(key: string): string | undefined {
  if (SYSFS_FILES.has(key) || SNAPSHOT_NUMBERS.has(key) || STEP_KEYS.has(key)) return undefined;
  if (key.startsWith('d.')) {
    const name = key.slice(2);
    return (SYSFS_FILES.has(name) && name !== 'advisor_mode') || SNAPSHOT_NUMBERS.has(name) ? undefined : `d.${name}: not a counter`;
  }
  const g = /^g(\d+)\.(.+)$/.exec(key);
  if (g) {
    const field = g[2];
    if (GUEST_FIELDS.has(field) || /^mapcount\..+$/.test(field)) return undefined;
    return `${key}: unknown guest field "${field}" (${[...GUEST_FIELDS].join(', ')}, mapcount.LETTER)`;
  }
  return `unknown expect key "${key}"`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Reads the script text. Throws a scriptError for anything the format does not allow. */
export function parseScript(text: string, fallbackName = 'script'): Script {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw scriptError(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(raw)) throw scriptError('the script must be a JSON object');
  const seed = raw.seed ?? 1;
  if (!isInt(seed) && typeof seed !== 'string') throw scriptError(`seed must be an integer or a string, got ${JSON.stringify(seed)}`);
  if (raw.name !== undefined && typeof raw.name !== 'string') throw scriptError('name must be a string');
  return {
    name: (raw.name as string | undefined) ?? fallbackName,
    seed,
    knobs: parseKnobs(raw.knobs),
    guests: parseGuests(raw.guests),
    steps: parseSteps(raw.steps),
    raw,
  };
}

function parseKnobs(knobs: unknown): Record<string, number | string> {
  if (knobs === undefined) return { ...SCRIPT_KNOB_DEFAULTS };
  if (!isObject(knobs)) throw scriptError('knobs must be an object of sysfs knob names');
  const out: Record<string, number | string> = { ...SCRIPT_KNOB_DEFAULTS };
  for (const [name, value] of Object.entries(knobs)) {
    if (name === 'run') throw scriptError('knobs: run is set by the steps (the first scan writes run=1), not in the header');
    if (!SCRIPTABLE_KNOBS.has(name)) throw scriptError(`knobs: "${name}" is not a knob a script may set`);
    if (typeof value !== 'number' && typeof value !== 'string') throw scriptError(`knobs: ${name} must be a number or a string`);
    out[name] = value;
  }
  return out;
}

function parseGuests(guests: unknown): GuestHeader[] {
  if (guests === undefined) return [];
  if (!Array.isArray(guests)) throw scriptError('guests must be an array');
  return guests.map((g, i) => {
    if (!isObject(g)) throw scriptError(`guests[${i}] must be an object`);
    for (const flag of ['madvise', 'merge_any'] as const) {
      if (g[flag] !== undefined && typeof g[flag] !== 'boolean') throw scriptError(`guests[${i}].${flag} must be true or false`);
    }
    let pages: string[] | undefined;
    if (g.pages !== undefined) {
      if (!Array.isArray(g.pages) || g.pages.some((s) => typeof s !== 'string')) throw scriptError(`guests[${i}].pages must be an array of page specs`);
      pages = expandPages(g.pages as string[]);
      for (const [p, spec] of pages.entries()) {
        const problem = specProblem(spec);
        if (problem) throw scriptError(`guests[${i}] page ${p}: ${problem}`);
      }
    }
    return { pages, madvise: (g.madvise as boolean | undefined) ?? true, mergeAny: (g.merge_any as boolean | undefined) ?? false };
  });
}

function parseSteps(steps: unknown): Step[] {
  if (!Array.isArray(steps)) throw scriptError('steps must be an array');
  return steps.map((st, i) => {
    if (!isObject(st)) throw scriptError('a step must be an object', i);
    const kinds = (['scan', 'batch', 'op'] as const).filter((k) => k in st);
    if (kinds.length !== 1) throw scriptError(`a step needs exactly one of "scan", "batch" or "op" (got ${kinds.length ? kinds.join(' and ') : 'none'})`, i);
    if (st.note !== undefined && typeof st.note !== 'string') throw scriptError('note must be a string', i);
    if (st.expect !== undefined) {
      if (!isObject(st.expect)) throw scriptError('expect must be an object', i);
      for (const key of Object.keys(st.expect)) {
        const problem = expectKeyProblem(key);
        if (problem) throw scriptError(`expect: ${problem}`, i);
      }
    }
    return { action: parseAction(st, kinds[0], i), note: st.note as string | undefined, expect: st.expect as Record<string, unknown> | undefined, raw: st };
  });
}

function parseAction(st: Record<string, unknown>, kind: 'scan' | 'batch' | 'op', i: number): StepAction {
  if (kind !== 'op') {
    const count = st[kind];
    if (!isInt(count) || count < 0) throw scriptError(`${kind} must be a non-negative integer, got ${JSON.stringify(count)}`, i);
    return { kind, count };
  }
  const op = st.op;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    throw scriptError(`unknown op ${JSON.stringify(op)} (${OPS.join(', ')})`, i);
  }
  const int = (field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
    const v = st[field];
    if (!isInt(v) || v < min || v > max) throw scriptError(`${op}: "${field}" must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${JSON.stringify(v)}`, i);
    return v;
  };
  switch (op as OpName) {
    case 'knob': {
      const { name, value } = st;
      if (typeof name !== 'string') throw scriptError('knob: "name" must be a sysfs knob name', i);
      if (name === 'sleep_millisecs') throw scriptError('knob: sleep_millisecs is the oracle\'s stepping clock and cannot be scripted', i);
      if (!SCRIPTABLE_KNOBS.has(name)) throw scriptError(`knob: "${name}" is not a writable knob of /sys/kernel/mm/ksm`, i);
      if (typeof value !== 'number' && typeof value !== 'string') throw scriptError(`knob: "value" must be a number or a string, got ${JSON.stringify(value)}`, i);
      return { kind: 'op', op: 'knob', name, value };
    }
    case 'write': {
      const content = st.content;
      if (content !== 'same') {
        const problem = specProblem(content);
        if (problem) throw scriptError(`write: ${problem} (or "same")`, i);
      }
      return { kind: 'op', op: 'write', guest: int('guest'), page: int('page'), content: content as string };
    }
    case 'write_byte':
      return { kind: 'op', op: 'write_byte', guest: int('guest'), page: int('page'), offset: int('offset', 0, PAGE_SIZE - 1), value: int('value', 0, 255) };
    case 'read':
      return { kind: 'op', op: 'read', guest: int('guest'), page: int('page') };
    case 'merge_any': {
      if (st.isolate !== undefined && typeof st.isolate !== 'boolean') throw scriptError('merge_any: "isolate" must be true or false', i);
      return { kind: 'op', op: 'merge_any', guest: int('guest'), value: int('value', 0, 1) as 0 | 1 };
    }
    case 'fork':
    case 'exit':
      return { kind: 'op', op: op as 'fork' | 'exit', guest: int('guest') };
    default:
      return { kind: 'op', op: op as RangeOpName, guest: int('guest'), first: int('first'), count: int('count', 1) };
  }
}

/**
 * Walks the steps with the guests' shapes and refuses what the harness could not do: a guest that
 * does not exist or has exited, a page outside the guest or unmapped, "same" on a page that is not
 * present. `guestPages` gives each first-level guest's size in pages. Returns the pages of every
 * guest the script ever has (its first-level guests and their forks).
 */
export function checkSteps(script: Script, guestPages: readonly number[]): number {
  const guests = guestPages.map((pages) => ({ pages, alive: true, unmapped: new Uint8Array(pages), present: new Uint8Array(pages).fill(1) }));
  for (const [i, { action }] of script.steps.entries()) {
    if (action.kind !== 'op' || action.op === 'knob') continue;
    const g = guests[action.guest];
    if (!g) throw scriptError(`${action.op}: guest ${action.guest} does not exist (${guests.length} guest${guests.length === 1 ? '' : 's'} so far)`, i);
    if (!g.alive) throw scriptError(`${action.op}: guest ${action.guest} has exited`, i);
    const range = (first: number, count: number): void => {
      if (first + count > g.pages) {
        const what = count === 1 ? `page ${first} is` : `pages ${first}..${first + count - 1} are`;
        throw scriptError(`${action.op}: ${what} outside guest ${action.guest}'s ${g.pages} pages (0..${g.pages - 1})`, i);
      }
      const hole = g.unmapped.subarray(first, first + count).indexOf(1);
      if (hole >= 0) throw scriptError(`${action.op}: page ${first + hole} of guest ${action.guest} was unmapped (munmap)`, i);
    };
    switch (action.op) {
      case 'write':
      case 'write_byte':
      case 'read':
        range(action.page, 1);
        if (action.op === 'write' && action.content === 'same' && !g.present[action.page]) {
          throw scriptError(`write: "same" on page ${action.page} of guest ${action.guest}, which is not present (dontneed)`, i);
        }
        if (action.op !== 'read') g.present[action.page] = 1;
        break;
      case 'mergeable':
      case 'unmergeable':
        range(action.first, action.count);
        break;
      case 'dontneed':
      case 'munmap':
        range(action.first, action.count);
        g.present.fill(0, action.first, action.first + action.count);
        if (action.op === 'munmap') g.unmapped.fill(1, action.first, action.first + action.count);
        break;
      case 'fork':
        guests.push({ pages: g.pages, alive: true, unmapped: g.unmapped.slice(), present: g.present.slice() });
        break;
      case 'exit':
        g.alive = false;
        break;
      case 'merge_any':
        break;
    }
  }
  return guests.reduce((n, g) => n + g.pages, 0);
}
