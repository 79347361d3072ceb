/**
 * The ksmd kernel thread, seen from /proc: found by name, and whether it is asleep in its scan loop
 * (state S, wchan ksm_scan_thread) and how often it has run (schedstat's third field).
 */
import { readdirSync, readFileSync } from 'node:fs';

const PF_KTHREAD = 0x00200000;

export function findKsmd(): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'ksmd') continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
      if (flags & PF_KTHREAD) return Number(d);
    } catch { /* gone */ }
  }
  throw new Error('the ksmd kernel thread was not found');
}

export interface KsmdState { asleep: boolean; runs: number; cpuNs: number }

export function ksmdState(pid: number): KsmdState {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const state = stat[stat.lastIndexOf(')') + 2];
  const wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8').trim();
  const [cpuNs, , runs] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  return { asleep: state === 'S' && (wchan === 'ksm_scan_thread' || wchan === '0' || wchan === ''), runs, cpuNs };
}
