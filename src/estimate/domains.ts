/**
 * `estimate --domain NAME=INPUT[,INPUT…]` (repeatable) and `--domain-map FILE` (one such mapping a
 * line, `#` comments): which inputs form which sharing domain. An INPUT is an input's name as the
 * estimate prints it (the path given, `pid 1234`, `clones/guest3`), and may end in `*` to take
 * every input whose name starts so. Inputs no mapping names stay in the default domain.
 *
 * With a mapping, the estimate also runs the inputs in one domain and with a domain per input
 * (VMware's default since 2015), so the summary puts the three savings side by side.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { CliError } from '../cli/errors.js';
import { DEFAULT_DOMAIN_NAME, MAX_DOMAIN_NAME_LENGTH } from '../domains.js';
import type { ImageSource } from './source.js';

export interface DomainMapping {
  name: string;
  inputs: string[];
  /** Where it was given: `--domain` or `FILE:LINE`. */
  from: string;
}

/** The mappings of every --domain flag and of the --domain-map file, in that order. */
export function domainMappings(flags: readonly string[], mapFile: string | undefined): DomainMapping[] {
  const out = flags.map((text) => parseMapping(text, '--domain'));
  if (mapFile !== undefined) out.push(...readMapFile(mapFile));
  return out;
}

function parseMapping(text: string, from: string): DomainMapping {
  const eq = text.indexOf('=');
  const shape = 'expected NAME=INPUT[,INPUT…]';
  if (eq < 0) throw new CliError('input', `${from} ${text}: no "=" (${shape})`);
  const name = text.slice(0, eq).trim();
  const inputs = text.slice(eq + 1).split(',').map((s) => s.trim());
  if (name === '') throw new CliError('input', `${from} ${text}: the domain has no name (${shape})`);
  if (name.length > MAX_DOMAIN_NAME_LENGTH) throw new CliError('input', `${from} ${text}: a domain name has at most ${MAX_DOMAIN_NAME_LENGTH} characters`);
  if (name === DEFAULT_DOMAIN_NAME) throw new CliError('input', `${from} ${text}: "${DEFAULT_DOMAIN_NAME}" is the domain of inputs no mapping names; give the domain another name`);
  if (inputs.some((s) => s === '')) throw new CliError('input', `${from} ${text}: an empty INPUT (${shape})`);
  return { name, inputs, from };
}

function readMapFile(path: string): DomainMapping[] {
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliError('input', `--domain-map ${path}: no such file`);
  const out: DomainMapping[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line !== '') out.push(parseMapping(line, `--domain-map ${path}:${i + 1}:`));
  });
  if (out.length === 0) throw new CliError('input', `--domain-map ${path}: no NAME=INPUT line in it`);
  return out;
}

/** `clones/*` → every name that starts with `clones/`; anything else matches itself only. */
const matches = (pattern: string, name: string): boolean =>
  pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;

/**
 * The domain of each input (undefined: the default domain). Every INPUT must name at least one
 * input, and no input may be named by two domains.
 */
export function resolveDomains(mappings: readonly DomainMapping[], sources: readonly ImageSource[]): Array<string | undefined> {
  const domains: Array<string | undefined> = sources.map(() => undefined);
  for (const mapping of mappings) {
    for (const pattern of mapping.inputs) {
      const hits = sources.flatMap((s, i) => (matches(pattern, s.name) ? [i] : []));
      if (hits.length === 0) {
        throw new CliError('input', `${mapping.from} ${mapping.name}=${pattern}: no input is named ${pattern} (inputs: ${sources.map((s) => s.name).join(', ')})`);
      }
      for (const i of hits) {
        const had = domains[i];
        if (had !== undefined && had !== mapping.name) throw new CliError('input', `${mapping.from} ${mapping.name}=${pattern}: input ${sources[i].name} is in domain ${had} already`);
        domains[i] = mapping.name;
      }
    }
  }
  // A fork (a live process after fork()) stays in its parent's domain, as AddressSpace.fork does.
  sources.forEach((source, i) => {
    if (!source.forkOf) return;
    const parent = sources.indexOf(source.forkOf);
    if (domains[i] !== undefined && domains[i] !== domains[parent]) {
      throw new CliError('input', `--domain ${domains[i]}: input ${source.name} is a fork of ${source.forkOf.name}, and a fork stays in its parent's domain (${domains[parent] ?? 'default'})`);
    }
    domains[i] = domains[parent];
  });
  return domains;
}

/** What the three ways of drawing domains save, side by side. */
export interface DomainComparison {
  oneDomainBytes: number;
  perTenantBytes: number;
  perSpaceBytes: number;
  /** Domains in the per-tenant run (the default one counts if an input is left in it). */
  tenants: number;
  spaces: number;
}

export function tenantCount(domains: ReadonlyArray<string | undefined>): number {
  return new Set(domains.map((d) => d ?? DEFAULT_DOMAIN_NAME)).size;
}

/** The summary row: what one domain, these domains and a domain per input save. */
export function formatDomainComparison(c: DomainComparison, bytes: (n: number) => string): string[] {
  const cost = (saved: number) => (c.oneDomainBytes > 0 ? ` (${((saved / c.oneDomainBytes) * 100).toFixed(1)}% of one domain's)` : '');
  return [
    'Sharing domains (pages of different domains never share a frame):',
    `  one domain                ${bytes(c.oneDomainBytes)} saved`,
    `  per tenant (${c.tenants} domain${c.tenants === 1 ? '' : 's'})`.padEnd(28) + `${bytes(c.perTenantBytes)} saved${cost(c.perTenantBytes)}`,
    `  per space (${c.spaces} domain${c.spaces === 1 ? '' : 's'})`.padEnd(28) + `${bytes(c.perSpaceBytes)} saved${cost(c.perSpaceBytes)}`,
  ];
}
