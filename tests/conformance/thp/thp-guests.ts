/**
 * thp_guest processes (thp_guest.c): started one after the other so that ksmd's list of mms, and
 * so its scan order, is the scenario's order; each says "ready ADDR BYTES CHILD" once its huge
 * pages are written. Closing stdin makes it check its memory and exit (0: contents intact).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { GuestSpec } from './scenarios.js';

export interface ThpGuest { pid: number; childPid: number; address: number; bytes: number; child: ChildProcess }

export async function startThpGuest(binary: string, g: GuestSpec): Promise<ThpGuest> {
  const args = [...(g.fork ? ['--fork'] : []), ...(g.nohuge ? ['--nohuge'] : []), g.spec];
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`thp_guest ${g.spec} did not get ready in 30 s`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) { clearTimeout(timer); resolve(text.trim()); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`thp_guest ${g.spec} exited (${code}): ${text.trim()}`)); });
  });
  const m = /^ready ([0-9a-f]+) (\d+) (\d+)$/.exec(line);
  if (!m) { child.kill('SIGKILL'); throw new Error(`thp_guest ${g.spec}: ${line}`); }
  return { pid: child.pid!, address: parseInt(m[1], 16), bytes: Number(m[2]), childPid: Number(m[3]), child };
}

export async function stopThpGuest(g: ThpGuest): Promise<number | null> {
  if (g.child.exitCode !== null) return g.child.exitCode;
  const exited = new Promise<number | null>((resolve) => g.child.once('exit', (code) => resolve(code)));
  g.child.stdin!.end();
  const timer = setTimeout(() => g.child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}
