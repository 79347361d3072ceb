/**
 * `estimate --from FILE… [--shard I/K]`: fingerprint files as the inputs (every positional after
 * --from is one too), and which shard of how many to run. I counts from 0, as a Kubernetes
 * Indexed Job's JOB_COMPLETION_INDEX does.
 */
import { CliError } from '../cli/errors.js';
import type { InputSpec } from '../cli/inputs.js';
import type { ShardId } from './from-records.js';
import { MAX_SHARDS } from './balance.js';

export interface ShardOptions {
  /** Fingerprint files (empty: an ordinary estimate). */
  from: string[];
  shard: ShardId | undefined;
}

export function shardOptions(opts: Record<string, unknown>, inputs: readonly InputSpec[]): ShardOptions {
  const given = opts.from === undefined ? [] : (Array.isArray(opts.from) ? opts.from : [opts.from]).map(String);
  if (given.some((f) => f === '' || f === 'true')) throw new CliError('usage', '--from needs a fingerprint file');
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  if (given.length === 0) {
    if (shard) throw new CliError('usage', '--shard I/K needs --from FILE (fingerprint files made by ksm-wasm fingerprint)');
    return { from: [], shard: undefined };
  }
  const other = inputs.find((i) => i.kind !== 'image');
  if (other) throw new CliError('usage', `--from: the fingerprint files are the inputs; --${other.kind} belongs to ksm-wasm fingerprint`);
  return { from: [...given, ...inputs.map((i) => (i as { path: string }).path)], shard };
}

function parseShard(value: unknown): ShardId {
  if (Array.isArray(value)) throw new CliError('usage', `--shard is given ${value.length} times`);
  const text = String(value);
  const m = /^([0-9]{1,6})\/([0-9]{1,6})$/.exec(text);
  if (!m) throw new CliError('usage', `--shard ${text}: give I/K, shard I of K (I from 0 to K-1)`);
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (count < 1 || count > MAX_SHARDS) throw new CliError('input', `--shard ${text}: K must be from 1 to ${MAX_SHARDS}`);
  if (index >= count) throw new CliError('input', `--shard ${text}: no shard ${index} of ${count} (I counts from 0 to K-1 = ${count - 1}, as JOB_COMPLETION_INDEX does)`);
  return { index, count };
}
