/**
 * How every `ksm-wasm` command ends: one exit-status convention and one error class for the three
 * ways a run can refuse or fail. The top level (main.ts) turns a CliError into one line on stderr
 * and its status; anything else that escapes a command is a bug (status 70).
 *
 *   0   done (an estimate that did not settle within --max-scans is done too: it says so)
 *   1   a check failed (a replay expectation not met, a page that read back wrong)
 *   2   bad input or usage (an unknown flag, a missing file, a bad knob value, an unreadable PID)
 *   70  internal error: a bug in ksm-wasm (EX_SOFTWARE of sysexits.h)
 */
import type { KsmError } from '../errors.js';

export const EXIT = { done: 0, checkFailed: 1, badInput: 2, internal: 70 } as const;

/** The convention in words, for --help and the README. */
export const EXIT_STATUS_HELP =
  'Exit status: 0 done (also an estimate that did not settle within --max-scans), 1 a check failed (a replay expectation), ' +
  '2 bad input or usage (one line on stderr), 70 internal error (a bug; KSM_WASM_DEBUG=1 prints its stack).';

/**
 * - usage: the command line itself is wrong (unknown flag or command, missing operand);
 * - input: something named on it cannot be used (a file, a PID, a knob value, a script);
 * - check: the run worked and found a mismatch (a replay expectation; later, mismatched shards).
 */
export type CliErrorKind = 'usage' | 'input' | 'check';

const STATUS: Readonly<Record<CliErrorKind, number>> = { usage: EXIT.badInput, input: EXIT.badInput, check: EXIT.checkFailed };

/** The one error a command throws on purpose. Its message is what the user reads, on one line. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(readonly kind: CliErrorKind, message: string) {
    super(message);
  }

  get exitStatus(): number {
    return STATUS[this.kind];
  }

  /** The same error with `context: ` in front (the file or step it concerns). */
  within(context: string): CliError {
    return new CliError(this.kind, `${context}: ${this.message}`);
  }
}

/** A library refusal as the CLI prints it: its errno-like code, then its message, once. */
export const ksmErrorText = (error: KsmError): string => `${error.code}: ${error.message}`;

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

/** "what: problem" for a Node system error, as an input error without its stack. */
export function describeSystemError(what: string, error: unknown): CliError {
  const code = (error as { code?: string } | undefined)?.code;
  const words = code && ERRNO_WORDS[code] ? `${ERRNO_WORDS[code]} (${code})` : String((error as Error)?.message ?? error);
  return new CliError('input', `${what}: ${words}`);
}
