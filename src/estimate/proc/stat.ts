/**
 * /proc/PID/stat: what kind of process a PID is (a kernel thread has no memory of its own, a zombie
 * has exited), its name, parent and start time (a PID reused by a new process has another).
 */
import { readFileSync } from 'node:fs';

/** task flag of a kernel thread (include/linux/sched.h). */
const PF_KTHREAD = 0x00200000;

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, T (stopped), t (traced), Z (zombie), X (dead)… */
  state: string;
  ppid: number;
  kernelThread: boolean;
  /** Clock ticks after boot: with the pid, it names one process. */
  startTime: number;
}

/** The process's stat, or undefined if there is no such process (now). */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  return { pid, comm, state: f[0], ppid: Number(f[1]), kernelThread: (Number(f[6]) & PF_KTHREAD) !== 0, startTime: Number(f[19]) };
}

/** True when the process is stopped (by a signal or a tracer). */
export const isStopped = (stat: ProcStat): boolean => stat.state === 'T' || stat.state === 't';

/** This process and every ancestor up to init: never frozen (a stopped parent could not resume it). */
export function selfAndAncestors(): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid; pid > 0 && !out.has(pid);) {
    out.add(pid);
    pid = readStat(pid)?.ppid ?? 0;
  }
  return out;
}
