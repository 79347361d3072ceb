/**
 * A live process's errors in plain words: no such process, a kernel thread, a zombie, permission.
 */
import { CliError, describeSystemError } from '../../cli/errors.js';

/** The process went away (exited, or its PID now names another process). */
export class ProcessGone extends CliError {
  constructor(message: string) { super('input', message); }
}

/** /proc refused: reading another process needs root or ptrace rights over it. */
export class PermissionDenied extends CliError {
  constructor(message: string) { super('input', message); }
}

export function procError(pid: number, file: string, error: unknown): CliError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return new ProcessGone(`pid ${pid}: no such process`);
  if (code === 'EACCES' || code === 'EPERM') {
    return new PermissionDenied(`pid ${pid}: cannot read /proc/${pid}/${file}: permission denied (reading another process's memory needs root or ptrace rights over it)`);
  }
  return describeSystemError(`pid ${pid}: /proc/${pid}/${file}`, error);
}
