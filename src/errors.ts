/** errno-like codes, as the kernel's sysfs files and system calls would answer. */
export type KsmErrorCode = 'EINVAL' | 'ENOMEM' | 'EFAULT' | 'EBUSY';

/** The status code a backend returns when memory runs out (0 is success). Negative, as in the kernel. */
export { E_NOMEM as ENOMEM } from './generated/core-abi.js';

/**
 * The one error type of the library. `code` tells the kind (as errno would), `message` names the
 * thing that was wrong. A call that throws it has changed nothing.
 */
export class KsmError extends Error {
  override readonly name = 'KsmError';
  constructor(readonly code: KsmErrorCode, message: string) {
    super(message);
  }
}

/** Thrown when the WebAssembly core hits a broken invariant (debug build): a bug, never bad input. */
export class KsmCoreAbort extends Error {
  override readonly name = 'KsmCoreAbort';
}
