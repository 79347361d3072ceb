/**
 * The two ways `ksm-wasm estimate` refuses: bad input (a file, a PID, a knob value: exit 1) and bad
 * usage (an unknown flag, nothing to scan: exit 2). The CLI prints the message as one line.
 */

/** An input the command cannot use: a file, a PID, a scenario name, a knob value. Exit status 1. */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly exitCode = 1;
}

/** The command line itself is wrong (unknown flag, missing operand). Exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** The system call errors a reader turns into plain words. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ESRCH: 'no such process',
  EIO: 'input/output error',
};

/** "what: problem" for a Node system error, without its stack. */
export function describeSystemError(what: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const words = code && ERRNO_WORDS[code] ? `${ERRNO_WORDS[code]} (${code})` : String((error as Error)?.message ?? error);
  return new InputError(`${what}: ${words}`);
}
