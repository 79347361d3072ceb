/**
 * A clock profile: how this host's ksmd spends time, for `estimate`'s simulated_ms and
 * ksmd_cpu_ms. `ksm-wasm calibrate` writes one (JSON) from measurements of the real ksmd;
 * `estimate --profile FILE` reads it; without one, the default shipped with the package
 * (default-profile.ts) is used. A file that is missing, not JSON, not a profile, or holds a bad
 * value is refused with one line (a CliError of kind 'input').
 */
import { readFileSync } from 'node:fs';
import { CliError, describeSystemError } from '../cli/errors.js';
import { DEFAULT_PROFILE } from './default-profile.js';

export * from './clock-profile.js';
import { CPU_KINDS, PROFILE_FORMAT, PROFILE_VERSION, type ClockProfile } from './clock-profile.js';

/** The profile in FILE, checked; DEFAULT_PROFILE when no file is given. */
export function loadProfile(path: string | undefined): ClockProfile {
  if (path === undefined) return DEFAULT_PROFILE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw describeSystemError(`--profile ${path}`, error);
  }
  const profile = parseProfile(text, `--profile ${path}`);
  return { ...profile, measured: { ...profile.measured, file: path } };
}

export function parseProfile(text: string, what: string): ClockProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError('input', `${what}: not JSON (${(error as Error).message}); a clock profile is what ksm-wasm calibrate writes`);
  }
  const p = value as Partial<ClockProfile> | null;
  if (typeof p !== 'object' || p === null || p.format !== PROFILE_FORMAT) {
    throw new CliError('input', `${what}: not a ksm-wasm clock profile (no "format": "${PROFILE_FORMAT}"); ksm-wasm calibrate writes one`);
  }
  if (p.version !== PROFILE_VERSION) throw new CliError('input', `${what}: clock profile version ${String(p.version)}, this ksm-wasm reads version ${PROFILE_VERSION}`);
  const bad = (field: string, want: string) => new CliError('input', `${what}: "${field}" must be ${want}`);
  if (!Number.isInteger(p.hz) || (p.hz as number) < 24 || (p.hz as number) > 10000) throw bad('hz', 'the kernel\'s tick rate, an integer from 24 to 10000');
  if (!Number.isInteger(p.extraTicks) || (p.extraTicks as number) < 0 || (p.extraTicks as number) > 10) throw bad('extraTicks', 'an integer from 0 to 10');
  if (!finiteAtLeast0(p.wakeMs)) throw bad('wakeMs', 'a number of ms, 0 or more');
  if (typeof p.cpuUs !== 'object' || p.cpuUs === null) throw bad('cpuUs', `an object with ${CPU_KINDS.join(', ')}`);
  for (const kind of CPU_KINDS) if (!finiteAtLeast0(p.cpuUs[kind])) throw bad(`cpuUs.${kind}`, 'a number of µs, 0 or more');
  return {
    format: PROFILE_FORMAT, version: PROFILE_VERSION, hz: p.hz as number, extraTicks: p.extraTicks as number, wakeMs: p.wakeMs as number,
    cpuUs: Object.fromEntries(CPU_KINDS.map((k) => [k, p.cpuUs![k]])) as ClockProfile['cpuUs'],
    measured: typeof p.measured === 'object' && p.measured !== null ? p.measured : {},
  };
}

const finiteAtLeast0 = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
