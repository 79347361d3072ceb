/**
 * The estimate's policy and domain flags: `--policy NAME --host-memory SIZE`, `--domain
 * NAME=INPUT…` (repeatable) and `--domain-map FILE`. Checked before any input is read.
 */
import { CliError } from '../cli/errors.js';
import { POLICIES, type PolicyName } from './policy.js';
import { DEFAULT_CPU_CAP } from './verdict.js';

export interface PolicyOptions {
  policy: PolicyName | undefined;
  /** Host memory in bytes (for --policy, and the verdict's ksmtuned line). */
  hostMemory: number | undefined;
  /** The verdict's CPU cap, a share of one core. */
  cpuCap: number;
  /** Print the verdict (text output only; --no-verdict leaves it out). */
  verdict: boolean;
  domainFlags: string[];
  domainMap: string | undefined;
}

type Parsed = Record<string, unknown>;

/** `single` reads a flag's one value (options.ts). */
export function policyOptions<P extends Parsed>(opts: P, single: (opts: P, flag: string) => string | undefined): PolicyOptions {
  const policy = single(opts, 'policy');
  const host = single(opts, 'host-memory');
  if (policy !== undefined && !(POLICIES as readonly string[]).includes(policy)) {
    throw new CliError('input', `--policy ${policy}: no such policy (known: ${POLICIES.join(', ')}; the kernel's own scan-time advisor is --advisor scan-time)`);
  }
  if (policy !== undefined && host === undefined) throw new CliError('usage', `--policy ${policy} needs --host-memory SIZE (the host's memory, e.g. 16G)`);
  if (policy !== undefined) {
    for (const flag of ['pages-to-scan', 'sleep-millisecs']) {
      if (opts[flag] !== undefined) throw new CliError('input', `--${flag}: cannot be set with --policy ${policy} (the policy writes it)`);
    }
    if (opts.advisor !== undefined && opts.advisor !== 'none') throw new CliError('input', `--advisor ${String(opts.advisor)}: cannot run with --policy ${policy} (both would set pages_to_scan)`);
  }
  const raw = opts.domain;
  const domainFlags = raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map(String);
  if (domainFlags.some((d) => d === '' || d === 'true')) throw new CliError('usage', '--domain needs a value (NAME=INPUT)');
  return {
    policy: policy as PolicyName | undefined,
    hostMemory: host === undefined ? undefined : parseSize(host, '--host-memory'),
    cpuCap: parseCpuCap(single(opts, 'cpu-cap')),
    verdict: opts.verdict !== false,
    domainFlags,
    domainMap: single(opts, 'domain-map'),
  };
}

/** --cpu-cap PERCENT of one core (default 10). */
export function parseCpuCap(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CPU_CAP;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || Number(text) <= 0 || Number(text) > 100) {
    throw new CliError('input', `--cpu-cap ${text}: a percentage of one core, above 0 and at most 100`);
  }
  return Number(text) / 100;
}

const UNITS: Readonly<Record<string, number>> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** `16G`, `512MiB`, `1.5g`, `4096` (MiB when no unit is given): bytes, a whole number of KiB. */
export function parseSize(text: string, flag: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgt])?(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new CliError('input', `${flag} ${text}: not a size (a number with K, M, G or T, e.g. 16G; no unit means MiB)`);
  const bytes = Math.floor((Number(m[1]) * (m[2] ? UNITS[m[2].toLowerCase()] : UNITS.m)) / 1024) * 1024;
  if (bytes < 1024 || bytes > 2 ** 50) throw new CliError('input', `${flag} ${text}: must be from 1 KiB to 1 PiB`);
  return bytes;
}
