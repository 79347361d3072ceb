/**
 * Sharing domains, by name: the driver's table from a domain's name to the engines' domain id.
 * Pages of spaces in different domains never share a KSM frame (each domain has its own trees in
 * the engine); spaces created without a domain share DEFAULT_DOMAIN_NAME, so a host that never
 * names a domain behaves exactly as the kernel does.
 */
import { DEFAULT_DOMAIN, MAX_DOMAINS } from './backend.js';
import { KsmError } from './errors.js';

/** The domain of spaces created without one. */
export const DEFAULT_DOMAIN_NAME = 'default';
/** Longest domain name accepted. */
export const MAX_DOMAIN_NAME_LENGTH = 255;

/** Checks a domain option: a non-empty string of at most MAX_DOMAIN_NAME_LENGTH characters. */
export function validateDomainName(domain: unknown, what: string): string {
  if (typeof domain !== 'string' || domain.length === 0 || domain.length > MAX_DOMAIN_NAME_LENGTH) {
    throw new KsmError('EINVAL', `${what}: domain must be a non-empty string of at most ${MAX_DOMAIN_NAME_LENGTH} characters, got ${JSON.stringify(domain)}`);
  }
  return domain;
}

/**
 * Names to ids, counted by the spaces (alive) in each. A name's id is given back when its last
 * space exits; a later space of that name, or of another, may get it again (the engine's trees
 * then still hold only stale leftovers of the old one, dropped as the kernel drops them).
 */
export class DomainTable {
  readonly #ids = new Map<string, { id: number; spaces: number }>();

  constructor() {
    this.#ids.set(DEFAULT_DOMAIN_NAME, { id: DEFAULT_DOMAIN, spaces: 0 });
  }

  /** The id `name` has, or would get; throws EINVAL if every id is taken. Changes nothing. */
  idFor(name: string): number {
    const known = this.#ids.get(name);
    if (known !== undefined) return known.id;
    const taken = new Set([...this.#ids.values()].map((entry) => entry.id));
    for (let id = 0; id < MAX_DOMAINS; id++) if (!taken.has(id)) return id;
    throw new KsmError('EINVAL', `domain "${name}": all ${MAX_DOMAINS} domains are in use by spaces that have not exited`);
  }

  /** A space of domain `name` was created (its id is idFor(name)). */
  retain(name: string): void {
    const entry = this.#ids.get(name);
    if (entry !== undefined) entry.spaces++;
    else this.#ids.set(name, { id: this.idFor(name), spaces: 1 });
  }

  /** A space of domain `name` exited. */
  release(name: string): void {
    const entry = this.#ids.get(name);
    if (entry === undefined) return;
    entry.spaces--;
    if (entry.spaces === 0 && name !== DEFAULT_DOMAIN_NAME) this.#ids.delete(name);
  }

  /** The domains with spaces alive, with how many each (the default one only if it has any). */
  counts(): Map<string, number> {
    return new Map([...this.#ids].filter(([, entry]) => entry.spaces > 0).map(([name, entry]) => [name, entry.spaces]));
  }
}
