/**
 * Which processes a whole-host estimate reads. --all: every process with an address space, in
 * ascending PID order (the order ksmd would meet them cannot be read from /proc; ascending PIDs is
 * the order they started, unless PIDs wrapped). --cgroup PATH: every process of a cgroup v2
 * directory and of its descendants, also in ascending PID order. Kernel threads are skipped (they
 * have no memory of their own), and so is this estimate itself.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CliError } from '../../cli/errors.js';
import { readStat } from './stat.js';

/** Where cgroup v2 is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid (v1 + v2) host. */
export function cgroupRoot(): string {
  for (const dir of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) if (existsSync(join(dir, 'cgroup.controllers'))) return dir;
  return '/sys/fs/cgroup';
}

/** Every user process, ascending; kernel threads and this process left out. */
export function allProcesses(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^[0-9]+$/.test(d))
    .map(Number)
    .filter((pid) => pid !== process.pid && readStat(pid)?.kernelThread === false)
    .sort((a, b) => a - b);
}

/** Every process of the cgroup directory (absolute, or relative to the cgroup v2 mount) and its children, ascending. */
export function cgroupProcesses(path: string): number[] {
  const dir = isAbsolute(path) ? path : resolve(cgroupRoot(), path);
  if (!existsSync(dir)) throw new CliError('input', `--cgroup ${path}: no such cgroup (${dir} does not exist)`);
  if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'cgroup.procs'))) {
    throw new CliError('input', `--cgroup ${path}: not a cgroup v2 directory (${dir} has no cgroup.procs)`);
  }
  const pids = new Set<number>();
  const walk = (d: string): void => {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.add(Number(line));
    } catch { /* removed while walked */ }
    for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
  };
  walk(dir);
  pids.delete(process.pid);
  return [...pids].filter((pid) => readStat(pid)?.kernelThread !== true).sort((a, b) => a - b);
}
