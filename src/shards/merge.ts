/**
 * The reduce step: K shard results (result.ts) of the same inputs and knobs, one per shard 0…K-1,
 * summed full scan by full scan; the time figures and convergence come from the sums (reduce.ts),
 * and the run stops where an estimate over all the pages would have stopped. Anything that does
 * not fit together is refused with one line naming the files.
 */
import { readFileSync } from 'node:fs';
import { CliError, describeSystemError } from '../cli/errors.js';
import type { ClockProfile } from '../estimate/profile.js';
import type { EstimateRun } from '../estimate/run.js';
import { COUNTER_NAMES, knobsOf, RESULT_FORMAT, RESULT_VERSION, shardScanOf, type ShardResultJson } from './result.js';
import { ScanReducer, shardedRun } from './reduce.js';
import { sumShardScans } from './sum.js';

export interface ShardResultFile { path: string; json: ShardResultJson }

/** Reads one shard result; a file that is not one is refused. */
export function readShardResult(path: string): ShardResultFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw describeSystemError(path, error);
  }
  let json: ShardResultJson;
  try {
    json = JSON.parse(text) as ShardResultJson;
  } catch {
    throw new CliError('input', `${path}: not JSON (a shard result is what estimate --from FILE --shard I/K --json prints)`);
  }
  if (json?.format !== RESULT_FORMAT) throw new CliError('input', `${path}: not a ksm-wasm shard result (what estimate --from FILE --shard I/K --json prints)`);
  if (json.version !== RESULT_VERSION) throw new CliError('input', `${path}: shard result version ${String(json.version)}; this ksm-wasm reads version ${RESULT_VERSION} (run the --shard jobs again with this ksm-wasm)`);
  if (!wellFormed(json)) throw new CliError('input', `${path}: a shard result with missing or malformed fields (cut short?)`);
  return { path, json };
}

function wellFormed(j: ShardResultJson): boolean {
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  return count(j.shard) && count(j.shards) && typeof j.input === 'string' && Array.isArray(j.inputs) && typeof j.knobs === 'object' && j.knobs !== null
    && count(j.max_scans) && count(j.stable_scans) && Array.isArray(j.scans) && j.scans.length === j.max_scans
    && j.scans.every((s) => Object.values(COUNTER_NAMES).every((k) => count(s?.counters?.[k])) && Array.isArray(s.spaces) && s.spaces.length === j.inputs.length);
}

/** Refuses results that are not the K shards of one run, each once. */
export function checkShardSet(results: readonly ShardResultFile[]): void {
  if (results.length === 0) throw new CliError('usage', 'give the shard results to merge (RESULT.json…)');
  const [first, ...rest] = results;
  const same = (r: ShardResultFile, what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) throw new CliError('input', `${r.path} and ${first.path}: ${what}, so they are not shards of one run`);
  };
  for (const r of rest) {
    same(r, 'shards of different inputs (their fingerprint files differ)', r.json.input, first.json.input);
    same(r, `split into different numbers of shards (${r.json.shards} and ${first.json.shards})`, r.json.shards, first.json.shards);
    same(r, 'run under different knobs', r.json.knobs, first.json.knobs);
    same(r, `run for different --max-scans or --stable-scans (${r.json.max_scans}/${r.json.stable_scans} and ${first.json.max_scans}/${first.json.stable_scans})`, [r.json.max_scans, r.json.stable_scans], [first.json.max_scans, first.json.stable_scans]);
  }
  const k = first.json.shards;
  const seen = new Map<number, string>();
  for (const r of results) {
    if (r.json.shard >= k) throw new CliError('input', `${r.path}: shard ${r.json.shard}/${k} does not exist`);
    const twice = seen.get(r.json.shard);
    if (twice) throw new CliError('input', `${twice} and ${r.path} are both shard ${r.json.shard}/${k}`);
    seen.set(r.json.shard, r.path);
  }
  const missing = Array.from({ length: k }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length) throw new CliError('input', `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${k}`).join(', ')} missing (given: ${[...seen.keys()].sort((a, b) => a - b).join(', ')})`);
}

/** The estimate the shards make together. */
export function mergeShardResults(results: readonly ShardResultFile[], profile: ClockProfile): EstimateRun {
  checkShardSet(results);
  const first = results[0].json;
  const reducer = new ScanReducer(knobsOf(first), profile);
  const scans = Math.min(...results.map((r) => r.json.scans.length)); // max_scans, checked when read from a file
  for (let s = 0; s < scans && !reducer.converged(first.stable_scans); s++) {
    reducer.add(sumShardScans(results.map((r) => shardScanOf(r.json.scans[s], first.inputs))));
  }
  return shardedRun(reducer, {
    spaces: first.inputs.map((i) => ({ name: i.name, pages: i.pages })),
    stableScans: first.stable_scans,
    readMs: Math.max(...results.map((r) => r.json.read_ms)),
    startupMs: Math.max(...results.map((r) => r.json.startup_ms)),
    shards: first.shards,
    mode: first.mode ?? 'pages',
  });
}
