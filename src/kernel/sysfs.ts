/**
 * /sys/kernel/mm/ksm: reading counters and knobs, writing knobs, and whether this machine lets the
 * harness drive the real ksmd at all.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';

export const KSM_DIR = '/sys/kernel/mm/ksm';

export const COUNTER_FILES = [
  'full_scans', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'pages_scanned', 'pages_skipped',
  'stable_node_chains', 'stable_node_dups', 'ksm_zero_pages', 'general_profit',
] as const;

export type KnobValues = Record<string, string>;

export function readKsm(file: string): string {
  return readFileSync(`${KSM_DIR}/${file}`, 'utf8').trim();
}

/** advisor_mode reads as "[none] scan-time": the bracketed word is the value. */
export function readKnob(file: string): string {
  const text = readKsm(file);
  return /\[([^\]]+)\]/.exec(text)?.[1] ?? text;
}

export function writeKnob(file: string, value: string | number): void {
  writeFileSync(`${KSM_DIR}/${file}`, String(value));
}

export function readCounters(): Record<string, number> {
  return Object.fromEntries(COUNTER_FILES.map((f) => [f, Number(readKsm(f))]));
}

/** Every writable file of the KSM directory (the knobs), with its value now. */
export function saveKnobs(): KnobValues {
  return Object.fromEntries(readdirSync(KSM_DIR)
    .filter((f) => statSync(`${KSM_DIR}/${f}`).mode & 0o200)
    .map((f) => [f, readKnob(f)]));
}

/** Why the harness cannot run here, or undefined if it can. */
export function unavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (!existsSync(KSM_DIR)) return `${KSM_DIR} does not exist (kernel without CONFIG_KSM)`;
  try {
    accessSync(`${KSM_DIR}/run`, constants.W_OK);
    accessSync('/proc/self/ksm_stat', constants.R_OK);
  } catch (error) {
    return `${KSM_DIR}/run is not writable or /proc/PID/ksm_stat is missing (${(error as NodeJS.ErrnoException).code}; needs root and kernel >= 6.1)`;
  }
  return undefined;
}

/** Why KSM is not idle (someone else uses it), or undefined if it is. */
export function busyReason(exceptPids: number[] = []): string | undefined {
  if (readKnob('run') !== '0') return `KSM run=${readKnob('run')}: someone else is using it`;
  const c = readCounters();
  for (const f of ['pages_shared', 'pages_sharing', 'pages_unshared', 'ksm_zero_pages']) {
    if (c[f] !== 0) return `KSM is not idle: ${f}=${c[f]}`;
  }
  const users = mergeableProcesses().filter((pid) => !exceptPids.includes(pid));
  if (users.length) return `other processes have mergeable memory: ${users.map(describeProcess).join(', ')}`;
  return undefined;
}

/** "1234 (python3, stopped)": enough to find who holds KSM. */
function describeProcess(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return `${pid} (${comm}${state === 'T' ? ', stopped' : ''})`;
  } catch {
    return String(pid);
  }
}

function mergeableProcesses(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/ksm_stat`, 'utf8');
      if (/ksm_mergeable: yes|ksm_merge_any: yes/.test(stat)) out.push(Number(d));
    } catch { /* gone, or a kernel thread */ }
  }
  return out;
}

/** /proc/PID/ksm_stat as numbers (yes/no lines as 1/0). */
export function readKsmStat(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/ksm_stat`, 'utf8').split('\n')) {
    const m = /^(\w+):?\s+(\S+)$/.exec(line.trim());
    if (m) out[m[1]] = m[2] === 'yes' ? 1 : m[2] === 'no' ? 0 : Number(m[2]);
  }
  return out;
}
