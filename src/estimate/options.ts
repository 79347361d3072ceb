/**
 * From the parsed command line to what the estimate needs: inputs in the order given, knobs
 * checked as the kernel would, limits, outputs. A bad value is a CliError of kind 'input', a
 * malformed command line one of kind 'usage' (both exit 2).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError } from '../cli/errors.js';
import { ENGINE_MEMORY_LIMIT } from '../cli/memory.js';
import type { InputSpec, LiveSettings } from '../cli/inputs.js';
import { checkKnob, ESTIMATE_KNOB_DEFAULTS, type EstimateKnobs } from './knobs.js';
import { policyOptions, type PolicyOptions } from './policy-options.js';
import { parseMode, type ModeChoice } from './mode.js';
import { parseSize } from './scaled.js';
import { MAX_THREADS } from '../shards/choose.js';
import { shardOptions, type ShardOptions } from '../shards/shard-options.js';

export interface EstimateOptions extends PolicyOptions, ShardOptions {
  inputs: InputSpec[];
  knobs: EstimateKnobs;
  maxScans: number;
  stableScans: number;
  /** The engine's memory cap in bytes, if given (else what the inputs need). */
  maxMemory: number | undefined;
  json: boolean;
  report: string | undefined;
  /** Live processes: which mappings (--merge-any), frozen while read (--freeze). */
  live: LiveSettings;
  /** A clock profile file (--profile), if given. */
  profile: string | undefined;
  /** --mode: pages, fingerprints or auto (mode.ts). */
  mode: ModeChoice;
  /** Content shards, each on a worker thread (--threads), if given (else one per core: src/shards/choose.ts). */
  threads: number | undefined;
}

/** Flags that take a value (`--flag VALUE` or `--flag=VALUE`), with the knob each one sets. */
export const KNOB_FLAGS: Readonly<Record<string, keyof EstimateKnobs>> = {
  'pages-to-scan': 'pagesToScan',
  'sleep-millisecs': 'sleepMillisecs',
  'max-page-sharing': 'maxPageSharing',
  'use-zero-pages': 'useZeroPages',
  'smart-scan': 'smartScan',
  'merge-across-nodes': 'mergeAcrossNodes',
  'stable-node-chains-prune-millisecs': 'stableNodeChainsPruneMillisecs',
};
export const VALUE_FLAGS = [...Object.keys(KNOB_FLAGS), 'advisor', 'max-scans', 'stable-scans', 'max-memory', 'report', 'scenario', 'pid', 'cgroup', 'policy', 'host-memory', 'domain', 'domain-map', 'cpu-cap', 'profile', 'mode', 'size', 'threads', 'from', 'shard'];

type Parsed = Record<string, unknown> & { _: unknown[] };

export function estimateOptions(opts: Parsed, argv: readonly string[]): EstimateOptions {
  const ordered = withSize(opts, orderedInputs(opts, argv));
  const shards = shardOptions(opts, ordered);
  const inputs = shards.from.length ? [] : ordered;
  if (inputs.length === 0 && shards.from.length === 0) throw new CliError('usage', 'nothing to scan (give IMAGE files, --scenario NAME, --pid PID, --cgroup PATH or --all)');
  const policy = policyOptions(opts, single);
  const knobs = { ...ESTIMATE_KNOB_DEFAULTS } as Record<string, unknown>;
  for (const [flag, knob] of Object.entries(KNOB_FLAGS)) {
    const text = single(opts, flag);
    if (text !== undefined) knobs[knob] = checkKnob(knob, decimal(flag, text), `--${flag}`);
  }
  const advisor = single(opts, 'advisor');
  if (advisor !== undefined) knobs.advisorMode = checkKnob('advisorMode', advisor, '--advisor');
  if (knobs.advisorMode === 'scan-time') {
    if (single(opts, 'pages-to-scan') !== undefined) throw new CliError('input', '--pages-to-scan: cannot be set with --advisor scan-time (the advisor sets pages_to_scan, starting from 500; the kernel refuses the write with EINVAL)');
    knobs.pagesToScan = 500;
  }
  if (knobs.pagesToScan === 0) throw new CliError('input', '--pages-to-scan 0: ksmd would never process a page (the kernel takes 0, but nothing would ever merge)');
  return {
    inputs,
    knobs: knobs as unknown as EstimateKnobs,
    maxScans: count(opts, 'max-scans', 50, 1, 100000),
    stableScans: count(opts, 'stable-scans', 3, 1, 100000),
    maxMemory: mebibytes(opts, 'max-memory'),
    json: opts.json === true,
    report: reportPath(single(opts, 'report')),
    live: { question: opts['merge-any'] === true ? 'merge-any' : 'mergeable', freeze: opts.freeze === true },
    ...policy,
    profile: single(opts, 'profile'),
    mode: parseMode(single(opts, 'mode')),
    threads: single(opts, 'threads') === undefined ? undefined : count(opts, 'threads', 1, 1, MAX_THREADS),
    ...shards,
  };
}

/** --size SIZE scales every --scenario input (scaled.ts); it means nothing without one. */
export function withSize(opts: Parsed, inputs: InputSpec[]): InputSpec[] {
  const sizeText = single(opts, 'size');
  if (sizeText === undefined) return inputs;
  if (!inputs.some((spec) => spec.kind === 'scenario')) throw new CliError('usage', '--size scales a built-in scenario: give --scenario NAME with it');
  const size = parseSize(sizeText);
  return inputs.map((spec) => (spec.kind === 'scenario' ? { ...spec, size } : spec));
}

/** A flag's one value as text, or undefined if absent. */
function single(opts: Parsed, flag: string): string | undefined {
  const value = opts[flag];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new CliError('usage', `--${flag} is given ${value.length} times`);
  if (value === '' || value === true) throw new CliError('usage', `--${flag} needs a value`);
  return String(value);
}

/** Flags that are not kernel knobs (so the kernel's parsing rules are not the reason). */
const OWN_FLAGS = new Set(['max-scans', 'stable-scans', 'max-memory', 'threads']);

function decimal(flag: string, text: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) {
    throw new CliError('input', `--${flag} ${text}: not a decimal integer${OWN_FLAGS.has(flag) ? '' : ' (the kernel takes only those)'}`);
  }
  return Number(text);
}

function count(opts: Parsed, flag: string, fallback: number, min: number, max: number): number {
  const text = single(opts, flag);
  if (text === undefined) return fallback;
  const n = decimal(flag, text);
  if (n < min || n > max) throw new CliError('input', `--${flag} ${text}: must be from ${min} to ${max}`);
  return n;
}

function mebibytes(opts: Parsed, flag: string): number | undefined {
  return single(opts, flag) === undefined ? undefined : count(opts, flag, 0, 1, ENGINE_MEMORY_LIMIT / 2 ** 20) * 2 ** 20;
}

function reportPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const full = resolve(path);
  if (existsSync(full) && statSync(full).isDirectory()) throw new CliError('input', `--report ${path}: is a directory (give a file name such as report.html)`);
  if (!existsSync(dirname(full))) throw new CliError('input', `--report ${path}: directory ${dirname(full)} does not exist`);
  return full;
}

/**
 * The inputs in command-line order. The parser keeps positionals and flags apart, so the order is
 * read back from argv; images are the positionals the parser found.
 */
export function orderedInputs(opts: Parsed, argv: readonly string[], valueFlags: readonly string[] = VALUE_FLAGS): InputSpec[] {
  const out: InputSpec[] = [];
  const images = opts._.map(String);
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') { out.push(...argv.slice(i + 1).map((path) => ({ kind: 'image' as const, path }))); break; }
    if (!token.startsWith('-') || token === '-') { out.push({ kind: 'image', path: token }); continue; }
    const [name, inline] = splitFlag(token);
    if (name === 'all') out.push({ kind: 'all' });
    if (!valueFlags.includes(name)) continue;
    const value = inline ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-') ? argv[++i] : undefined);
    if (value === undefined || value === '') throw new CliError('usage', `--${name} needs a value`);
    if (name === 'pid') out.push(...value.split(',').map((text) => ({ kind: 'pid' as const, text })));
    if (name === 'scenario') out.push({ kind: 'scenario', name: value });
    if (name === 'cgroup') out.push({ kind: 'cgroup', path: value });
  }
  const found = out.filter((s) => s.kind === 'image').map((s) => (s as { path: string }).path);
  if (found.join('\0') !== images.join('\0')) {
    // Should not happen; fall back to the parser's images, first.
    return [...images.map((path) => ({ kind: 'image' as const, path })), ...out.filter((s) => s.kind !== 'image')];
  }
  return out;
}

function splitFlag(token: string): [string, string | undefined] {
  const bare = token.replace(/^-+/, '');
  const eq = bare.indexOf('=');
  return eq < 0 ? [bare, undefined] : [bare.slice(0, eq), bare.slice(eq + 1)];
}
