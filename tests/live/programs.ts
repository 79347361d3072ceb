/**
 * Real programs this project did not write (Debian's python3 and perl), loading a lot of code,
 * opting into KSM and then stopping themselves (SIGSTOP), so their memory is frozen for both the
 * estimate and the real ksmd. Started one after another (each is stopped, so registered, before the
 * next starts), so that PID order is the order they registered with KSM, which is ksmd's scan order.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Debian's interpreters (not a pyenv shim). */
export const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find(existsSync) ?? 'python3';
export const PERL = '/usr/bin/perl';

/** What the program does before it stops: opt in from inside (prctl), or nothing (its launcher did). */
export type OptIn = 'inside' | 'none';

const PYTHON_LOAD = `
import ctypes, os, signal, sys
import json, decimal, email, email.mime.text, http.client, xml.dom.minidom, xml.etree.ElementTree, sqlite3, unittest, argparse, asyncio
data = [json.dumps({'k': i, 'v': str(decimal.Decimal(i) / 7)}) for i in range(2000)]
`;
const PYTHON_OPT_IN = `
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(67, 1, 0, 0, 0) != 0: sys.exit('prctl(PR_SET_MEMORY_MERGE) failed: errno %d' % ctypes.get_errno())
`;
const PYTHON_STOP = `os.kill(os.getpid(), signal.SIGSTOP)\n`;
/** After the modules: fork; the child touches some objects (copy-on-write), both stop. */
const PYTHON_FORK = `
pid = os.fork()
if pid == 0:
    extra = [s.upper() for s in data[:500]]
print(os.getpid(), flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
`;

const PERL_LOAD = `
use strict; use warnings;
use POSIX (); use Data::Dumper; use Storable; use List::Util qw(sum); use Scalar::Util; use File::Spec; use File::Temp;
use Getopt::Long; use Time::HiRes; use Text::Wrap; use IO::Socket; use Encode; use JSON::PP; use Digest::MD5; use MIME::Base64;
my @data = map { JSON::PP->new->canonical->encode({ k => $_, v => Digest::MD5::md5_hex($_) }) } 1 .. 2000;
`;
const PERL_OPT_IN = `syscall(157, 67, 1, 0, 0, 0) == 0 or die "prctl(PR_SET_MEMORY_MERGE) failed: $!\\n";\n`;
const PERL_STOP = `kill 'STOP', $$;\nprint scalar(@data), "\\n";\n`;

export function pythonArgs(optIn: OptIn): string[] {
  return [PYTHON, '-c', PYTHON_LOAD + (optIn === 'inside' ? PYTHON_OPT_IN : '') + PYTHON_STOP];
}

export function perlArgs(optIn: OptIn): string[] {
  return [PERL, '-e', PERL_LOAD + (optIn === 'inside' ? PERL_OPT_IN : '') + PERL_STOP];
}

/** A launcher (python3) that calls prctl(PR_SET_MEMORY_MERGE) and then execs the program, as systemd's MemoryKSM=yes does. */
export function launched(args: string[]): string[] {
  const exec = `import ctypes, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.prctl(67, 1, 0, 0, 0) != 0: sys.exit('prctl failed')\nos.execv(sys.argv[1], sys.argv[1:])\n`;
  return [PYTHON, '-c', exec, ...args];
}

/** python3 that opts in, loads its modules, forks; both stop. Returns [parent, child]. */
export async function startForkedPython(): Promise<number[]> {
  const child = spawn(PYTHON, ['-c', PYTHON_LOAD + PYTHON_OPT_IN + PYTHON_FORK], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { errors += chunk.toString(); });
  const pids = (): number[] => text.split('\n').slice(0, -1).map(Number); // whole lines only
  await until(() => pids().length === 2 && pids().every(stopped), () => `the forked python3 did not stop (printed ${JSON.stringify(text)}, stderr ${JSON.stringify(errors)}, exit ${child.exitCode})`);
  return pids().sort((a, b) => a - b);
}

/** Starts a program and waits until it has stopped itself. */
export async function startStopped(args: string[]): Promise<number> {
  const child = spawn(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited: number | null = null;
  child.once('exit', (code) => { exited = code ?? -1; });
  await until(() => exited !== null || stopped(child.pid!), `${args[0]} did not stop itself`);
  if (exited !== null) throw new Error(`${args.slice(0, 1).join(' ')} exited with ${exited} before stopping`);
  return child.pid!;
}

export function stopped(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2)[0] === 'T';
  } catch {
    return false;
  }
}

async function until(done: () => boolean, message: string | (() => string), timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(typeof message === 'string' ? message : message());
    await sleep(20);
  }
}

/** SIGKILL every program (stopped ones too). */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** Whether perl has the modules the program loads (Debian's perl does). */
export function perlReady(): boolean {
  return spawnSync(PERL, ['-e', PERL_LOAD], { stdio: 'ignore' }).status === 0;
}
