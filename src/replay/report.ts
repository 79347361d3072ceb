/** The human-readable replay log: one line per snapshot (the oracle's log format), failed expectations, a summary. */
import type { ExpectOutcome } from './expect.js';
import type { ReplayResult, StepRecord } from './runner.js';
import { snapLine } from './snapshot.js';

/** A step as the oracle's log shows it: `scan 2`, or the op without its note and expect. */
export function describeStep(step: Record<string, unknown>): string {
  if ('scan' in step) return `scan ${step.scan}`;
  if ('batch' in step) return `batch ${step.batch}`;
  const { note: _n, expect: _e, ...op } = step;
  return JSON.stringify(op);
}

const show = (v: unknown): string => JSON.stringify(v) ?? 'undefined';

export function failedLines(expect: Record<string, ExpectOutcome> | undefined): string[] {
  return Object.entries(expect ?? {}).filter(([, e]) => !e.ok)
    .map(([key, e]) => `${key}: expected ${show(e.expected)}, got ${show(e.actual)}`);
}

/** The lines for one step. */
export function stepLines(r: StepRecord): string[] {
  const note = typeof r.step.note === 'string' ? `  (${r.step.note})` : '';
  const lines = [`step ${r.index}: ${describeStep(r.step)}${note}`];
  for (const s of r.snapshots) {
    const tag = r.kind === 'op' ? 'op   ' : s.scan_completed ? 'scan ' : 'batch';
    lines.push(`  ${tag} ${snapLine(s)}`);
  }
  if (r.kind === 'op' && r.result) {
    const { ok: _ok, ...rest } = r.result;
    const extra = r.batches_during_op ? `, batches during op: ${r.batches_during_op}` : '';
    lines.push(`  -> ${JSON.stringify(rest)}${extra}`);
  }
  if (r.stopped_reason) lines.push(`  stopped: ${r.stopped_reason} (${r.scans_done} scans, ${r.batches_done} batches done)`);
  if (!r.contents_ok) {
    for (const m of r.contents_mismatch ?? []) lines.push(`  CONTENT MISMATCH g${m.guest} page ${m.page}: expected ${m.expected}, read ${m.got}`);
  }
  if (r.expect) {
    const failed = failedLines(r.expect);
    const total = Object.keys(r.expect).length;
    lines.push(failed.length ? `  EXPECTATION FAILED (${failed.length}/${total}): ${failed.join('; ')}` : `  expect: ${total}/${total} ok`);
  }
  return lines;
}

/** The closing line: expectations met, contents, engine. */
export function summaryLine(name: string, res: ReplayResult): string {
  const e = res.expectations;
  return `${name}: ${res.steps.length} steps; expectations ${e.total - e.failed}/${e.total} ok; ` +
    `contents ${res.contents_all_ok ? 'ok' : 'MISMATCH'} (engine ${res.engine})`;
}
