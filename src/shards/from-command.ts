/**
 * `estimate --from FILE… [--shard I/K]`: the estimate from fingerprint files. With --shard, one
 * job of a map/reduce run: exactly --max-scans full scans of shard I of K, its counters printed as
 * a shard result (result.ts) for `ksm-wasm merge`. Without it, all the pages as one shard, printed
 * as any estimate is.
 */
import { CliError, EXIT } from '../cli/errors.js';
import type { CliIO } from '../cli/main.js';
import { estimateJson } from '../estimate/json.js';
import type { EstimateOptions } from '../estimate/options.js';
import { loadProfile } from '../estimate/profile.js';
import { formatTable } from '../estimate/table.js';
import { readFingerprintFile } from '../fingerprint/file.js';
import { mergeShardResults } from './merge.js';
import { shardResultJson } from './result.js';
import { runShard } from './run-shard.js';
import { engineOf, hugePagesNote } from '../estimate/mode.js';

export async function estimateFromFingerprints(options: EstimateOptions, io: CliIO): Promise<number> {
  refuseWithFrom(options);
  const profile = loadProfile(options.profile);
  const files = options.from.map(readFingerprintFile);
  const shard = options.shard ?? { index: 0, count: 1 };
  const stableScans = options.shard ? undefined : options.stableScans; // a --shard job runs exactly --max-scans
  // The inputs are fingerprints already: the fingerprint engine, unless --mode pages asks for the page engine.
  const mode = options.mode === 'pages' ? 'pages' : 'fingerprints';
  const run = await runShard(files, shard, { knobs: options.knobs, maxScans: options.maxScans, profile, maxMemory: options.maxMemory, stableScans, engine: engineOf(mode) });
  // Said once the run is taken (inputs with huge pages that are refused as shards say only that).
  const note = hugePagesNote(files.reduce((n, f) => n + f.header.inputs.reduce((m, i) => m + i.huge_spans.length, 0), 0), 'fingerprint files');
  if (note) io.err(`ksm-wasm estimate: ${note}\n`);
  const result = shardResultJson(run, { files, shard, knobs: options.knobs, maxScans: options.maxScans, stableScans: options.stableScans, mode });
  if (options.shard) {
    io.out(`${JSON.stringify(result)}\n`);
    return EXIT.done;
  }
  const merged = mergeShardResults([{ path: options.from.join(' '), json: result }], profile);
  io.out(options.json ? `${JSON.stringify(estimateJson(merged), null, 1)}\n` : formatTable(merged));
  if (!merged.converged) io.err(`ksm-wasm estimate: the merge state did not settle within --max-scans ${options.maxScans} (last change after full scan ${merged.settledAt})\n`);
  return EXIT.done;
}

/** What --from does not combine with (yet), each said in one line. */
function refuseWithFrom(o: EstimateOptions): void {
  if (o.shard && !o.json) throw new CliError('usage', '--shard prints a shard result for ksm-wasm merge: add --json');
  if (o.knobs.advisorMode === 'scan-time') throw new CliError('input', '--advisor scan-time: not with --from (the advisor needs the whole run\'s CPU time as it runs; estimate the inputs themselves)');
  if (o.policy) throw new CliError('input', `--policy ${o.policy}: not with --from (a policy reacts to the whole run as it runs; estimate the inputs themselves)`);
  if (o.threads !== undefined) throw new CliError('usage', '--threads: not with --from (run the shards as separate jobs with --shard I/K, then ksm-wasm merge)');
  if (o.domainFlags.length || o.domainMap) throw new CliError('usage', '--domain: not with --from yet');
  if (o.report) throw new CliError('usage', '--report: not with --from yet');
}
