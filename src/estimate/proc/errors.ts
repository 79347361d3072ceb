/**
 * A live process's errors in plain words: no such process, a kernel thread, a zombie, permission.
 */
import { describeSystemError, InputError } from '../errors.js';

/** The process went away (exited, or its PID now names another process). */
export class ProcessGone extends InputError {}

/** /proc refused: reading another process needs root or ptrace rights over it. */
export class PermissionDenied extends InputError {}

export function procError(pid: number, file: string, error: unknown): InputError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return new ProcessGone(`pid ${pid}: no such process`);
  if (code === 'EACCES' || code === 'EPERM') {
    return new PermissionDenied(`pid ${pid}: cannot read /proc/${pid}/${file}: permission denied (reading another process's memory needs root or ptrace rights over it)`);
  }
  return describeSystemError(`pid ${pid}: /proc/${pid}/${file}`, error);
}
