/**
 * Live processes (--pid, --all, --cgroup): the pages ksmd would visit in each, read through /proc.
 * One concern per file: mappings.ts (smaps VmFlags), pagemap.ts (pagemap + kpageflags), forks.ts
 * (frames shared after fork), read.ts (/proc/PID/mem), freeze.ts (--freeze), discover.ts (which
 * processes), live.ts (all of it as sources).
 */
import { CliError } from '../../cli/errors.js';
import { openLiveProcesses, type LiveOptions, type LiveSource } from './live.js';

export { allProcesses, cgroupProcesses } from './discover.js';
export { openLiveProcesses, type LiveOptions, type LiveSource } from './live.js';
export type { LiveFacts } from './facts.js';
export type { MergeQuestion } from './mappings.js';

/** Parses a --pid value; a CliError if it is not a positive integer. */
export function parsePid(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new CliError('input', `--pid ${text}: not a process id (a positive integer)`);
  return Number(text);
}

/** One process, on its own (tests and the library): the pages ksmd would visit for the question asked. */
export function openProcess(pid: number, options: Partial<LiveOptions> = {}): LiveSource {
  return openLiveProcesses([pid], { question: 'mergeable', freeze: false, host: false, note: (line) => process.stderr.write(`ksm-wasm estimate: ${line}\n`), ...options })[0];
}
