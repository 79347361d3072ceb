/**
 * Runs a Node script as root until it first touches /proc, and from then on as another user:
 *
 *   node --import tsx tests/helpers/drop-privileges.ts UID GID SCRIPT [ARGS...]
 *
 * A test of "a process we may not read is refused" needs the CLI to run as an unprivileged user,
 * but that user may not even be able to enter the checkout (a private `mktemp -d` directory), so
 * spawning the CLI as that user fails before the CLI runs. Here the CLI's modules are loaded as
 * root, from wherever the checkout is, and the process drops to UID:GID right before its first
 * look at /proc: from there the kernel answers the CLI's /proc reads as it answers that user's.
 *
 * Every fs function that takes a path (sync, callback and promise forms) is wrapped, and the ESM
 * bindings of node:fs and node:fs/promises are synced, so `import { openSync } from 'node:fs'` in
 * the script sees the wrapper. Modules the script imports lazily after the drop must be readable
 * by UID; the CLI's refusal path imports none.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [uidArg, gidArg, script, ...args] = process.argv.slice(2);
const uid = Number(uidArg);
const gid = Number(gidArg);
if (!Number.isInteger(uid) || !Number.isInteger(gid) || !script) {
  process.stderr.write('usage: node --import tsx tests/helpers/drop-privileges.ts UID GID SCRIPT [ARGS...]\n');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  process.stderr.write('drop-privileges: must start as root\n');
  process.exit(2);
}

let dropped = false;
function dropOnce(): void {
  if (dropped) return;
  process.setgroups!([]);
  process.setgid!(gid);
  process.setuid!(uid);
  dropped = true;
  if (process.getuid!() !== uid || process.getgid!() !== gid) throw new Error(`drop-privileges: still uid ${process.getuid!()} gid ${process.getgid!()}`);
}

function isProcPath(path: unknown): boolean {
  const text = path instanceof URL ? path.pathname : Buffer.isBuffer(path) ? path.toString() : path;
  return typeof text === 'string' && (text === '/proc' || text.startsWith('/proc/'));
}

type AnyFunction = (...a: unknown[]) => unknown;

function wrapPathFunctions(target: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(target)) {
    if (typeof value !== 'function' || /^[A-Z]/.test(name)) continue; // classes (ReadStream, Stats...) stay
    const original = value as AnyFunction;
    target[name] = function (this: unknown, ...a: unknown[]) {
      if (isProcPath(a[0])) dropOnce();
      return original.apply(this, a);
    };
  }
}

wrapPathFunctions(fs as unknown as Record<string, unknown>);
wrapPathFunctions(fs.promises as unknown as Record<string, unknown>);
syncBuiltinESMExports();

process.argv = [process.argv[0], resolve(script), ...args];
await import(pathToFileURL(resolve(script)).href);
