/**
 * Whether a test can run on this machine, and if not, why; and how a test that cannot is reported.
 *
 * A test that cannot run here is registered with uvu's `test.skip`, so uvu counts it in its
 * "Skipped:" line, and its reason is printed where its suite runs, on a line of its own that
 * starts with "SKIPPED" (scripts/run-tests.mjs lists those lines again above its closing line).
 * It is never a passing test that prints something.
 *
 *   const test = suite('estimate readers');
 *   const noPython = cannotRun({ commands: ['python3'] });
 *   testIf(test, noPython)('reads a live process', async () => { ... });
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Callback, Test } from 'uvu';
import { busyReason, unavailableReason } from '../conformance/sysfs.js';
import { JOURNAL } from '../conformance/restore.js';

/** What a test needs; every field is optional and all of them must hold. */
export interface Needs {
  /** Root, and what for (the reason says so when we are not root). */
  root?: string;
  /** Commands that must be on PATH (cc, python3, gcore). */
  commands?: string[];
  /** A C compiler that can build a program: cc on PATH and the C library's headers. */
  compiler?: boolean;
  /** Files that must exist (Debian's /usr/bin/chromium). */
  files?: string[];
  /** The real ksmd: /sys/kernel/mm/ksm writable, /proc/PID/ksm_stat there, and KSM idle. */
  ksm?: boolean;
  /** Attaching to a child process with ptrace (gdb's gcore), which Yama and capabilities decide. */
  ptrace?: boolean;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Why a test with these needs cannot run here, or undefined if it can. */
export function cannotRun(needs: Needs): string | undefined {
  if (needs.root && !isRoot()) return `not root (uid ${process.getuid?.()}): ${needs.root}`;
  const missing = (needs.commands ?? []).filter((c) => !onPath(c));
  if (missing.length) return `${missing.join(', ')} not on PATH`;
  if (needs.compiler && !onPath('cc')) return 'no C compiler: cc not on PATH (Debian: gcc)';
  if (needs.compiler && !existsSync('/usr/include/stdio.h')) return 'cc cannot build: /usr/include/stdio.h missing (Debian: libc6-dev)';
  const absent = (needs.files ?? []).filter((f) => !existsSync(f));
  if (absent.length) return `${absent.join(', ')} missing`;
  if (needs.ptrace) {
    const why = ptraceReason();
    if (why) return why;
  }
  if (needs.ksm) return ksmReason();
  return undefined;
}

/** True if `command` is an executable file in one of PATH's directories. */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try { accessSync(join(dir, command), constants.X_OK); return true; } catch { return false; }
  });
}

/** CAP_SYS_PTRACE is bit 19 of the effective capabilities. */
const CAP_SYS_PTRACE = 19n;

/**
 * Whether this process's children can ptrace-attach to their siblings (gcore, started by the test,
 * dumps another child of the test). Yama's ptrace_scope: 0 allows it for the same user, 1 only for
 * ancestors or CAP_SYS_PTRACE, 2 only with CAP_SYS_PTRACE, 3 never.
 */
function ptraceReason(): string | undefined {
  let scope = 0;
  try { scope = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8')); } catch { /* no Yama: classic rules */ }
  if (scope >= 3) return 'ptrace is disabled here (kernel.yama.ptrace_scope = 3)';
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const mayTrace = capEff !== undefined && ((BigInt(`0x${capEff}`) >> CAP_SYS_PTRACE) & 1n) === 1n;
  if (scope >= 1 && !mayTrace) return `gdb may not attach to another process here (kernel.yama.ptrace_scope = ${scope} and no CAP_SYS_PTRACE)`;
  return undefined;
}

/** Why the real ksmd cannot be driven now, or undefined; read only, it changes nothing. */
function ksmReason(): string | undefined {
  const unavailable = unavailableReason();
  if (unavailable) return unavailable;
  const busy = busyReason();
  if (!busy) return undefined;
  // A conformance run killed with SIGKILL leaves its knobs and its journal behind.
  const hint = existsSync(JOURNAL) ? ` (a killed run left ${JOURNAL}: node --import tsx tests/conformance/restore.ts puts KSM back)` : '';
  return busy + hint;
}

interface Skipped { name: string; why: string }
const skippedBySuite = new WeakMap<object, Skipped[]>();

/**
 * `test` itself when `why` is undefined; otherwise a function with test's signature that
 * registers the test as skipped and prints why when the suite runs.
 */
export function testIf<T>(test: Test<T>, why: string | undefined): (name: string, handler: Callback<T>) => void {
  if (why === undefined) return test;
  return (name) => skipTest(test, name, why);
}

/** Registers `name` as skipped in `test`'s suite, with the reason printed when the suite runs. */
export function skipTest<T>(test: Test<T>, name: string, why: string): void {
  test.skip(name);
  let list = skippedBySuite.get(test);
  if (!list) {
    list = [];
    skippedBySuite.set(test, list);
    const mine = list;
    test.before((context) => { process.stdout.write(`\n${describe(context.__suite__, mine).join('\n')}\n`); });
  }
  list.push({ name, why });
}

/** One line per reason: "SKIPPED suite › name: why", or "SKIPPED suite › N tests (a; b; …): why". */
function describe(suiteName: string, skipped: Skipped[]): string[] {
  const byReason = new Map<string, string[]>();
  for (const s of skipped) byReason.set(s.why, [...(byReason.get(s.why) ?? []), s.name]);
  return [...byReason].map(([why, names]) => {
    const shown = names.length <= 3 ? names.join('; ') : `${names.slice(0, 3).join('; ')}; …`;
    const what = names.length === 1 ? names[0] : `${names.length} tests (${shown})`;
    return `  SKIPPED ${suiteName} › ${what}: ${why}`;
  });
}
