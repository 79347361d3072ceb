/**
 * The engine a closed Ksm holds instead of its own: every call is refused with one clear error, so
 * no path (the host's or a space's) can reach a released memory.
 */
import type { KsmBackend } from './backend.js';
import { KsmError } from './errors.js';

export function closedEngine(engine: KsmBackend['engine']): KsmBackend {
  const refuse = (): never => { throw new KsmError('EINVAL', 'this Ksm was closed (close() released its engine)'); };
  return new Proxy({ engine } as KsmBackend, {
    get: (target, property) => (property === 'engine' ? target.engine : refuse),
  });
}
