/**
 * A step's `expect` block, checked the way ksm_script.py checks it: against the step's last
 * snapshot (or the previous step's, if the step took none), `d.NAME` against the previous step's
 * last snapshot, `gI.FIELD` against guest I, and `error`, `contents_ok`, `batches_during_op`,
 * `scans_done`, `batches_done` against the step's own record.
 */
import type { Snapshot } from './snapshot.js';

export interface ExpectOutcome {
  expected: unknown;
  actual: unknown;
  ok: boolean;
}

/** What a step recorded, as far as expectations look at it. */
export interface StepFacts {
  result?: { error?: string | null } & Record<string, unknown>;
  contents_ok?: boolean;
  batches_during_op?: number;
  scans_done?: number;
  batches_done?: number;
}

function value(name: string, snap: Snapshot): unknown {
  if (name === 'rmap_items' || name === 'rmap_items_live_sum') return snap[name];
  if (name in snap.vm) return snap.vm[name as keyof Snapshot['vm']];
  return snap.ksm[name];
}

/** The actual value for one expect key (undefined where the oracle gets None). */
export function lookup(key: string, snap: Snapshot, prev: Snapshot, step: StepFacts): unknown {
  if (key === 'error') return step.result?.error ?? null;
  if (key === 'contents_ok' || key === 'batches_during_op' || key === 'scans_done' || key === 'batches_done') return step[key] ?? null;
  if (key.startsWith('d.')) {
    const now = value(key.slice(2), snap);
    const before = value(key.slice(2), prev);
    return typeof now === 'number' && typeof before === 'number' ? now - before : undefined;
  }
  const g = /^g(\d+)\.(.+)$/.exec(key);
  if (g) {
    const guest = snap.guests.find((x) => x.index === Number(g[1]));
    const field = g[2];
    if (!guest) return null;
    if (field === 'alive') return guest.alive;
    if (!guest.alive) return null;
    if (field === 'map') return guest.map;
    if (field === 'smaps_ksm_kb') return guest.smaps_ksm_kb;
    if (field.startsWith('mapcount.')) return guest.mapcounts?.[field.slice('mapcount.'.length)] ?? null;
    return (guest.ksm_stat as Record<string, unknown> | undefined)?.[field] ?? null;
  }
  return value(key, snap);
}

/** Python's ==, for JSON values: true == 1, 1 == 1.0, arrays and objects by value. */
export function pyEqual(a: unknown, b: unknown): boolean {
  const num = (v: unknown): unknown => (typeof v === 'boolean' ? Number(v) : v);
  if ((typeof a === 'boolean') !== (typeof b === 'boolean')) return num(a) === num(b);
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEqual(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => k in (b as object) && pyEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

export function checkExpect(expect: Record<string, unknown>, snap: Snapshot, prev: Snapshot, step: StepFacts): Record<string, ExpectOutcome> {
  const out: Record<string, ExpectOutcome> = {};
  for (const [key, expected] of Object.entries(expect)) {
    const actual = lookup(key, snap, prev, step) ?? null;
    out[key] = { expected, actual, ok: pyEqual(actual, expected) };
  }
  return out;
}
