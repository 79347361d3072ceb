/**
 * `ksm-wasm merge RESULT…`: the reduce step of a map/reduce estimate. Sums the shard results
 * (merge.ts), computes the time figures and convergence, and prints the estimate as `estimate`
 * would (the table and the verdict, or with --json the JSON of docs/estimate-json.md). The verdict leaves out
 * ksmtuned and the domain comparison, and says so: each needs a run of its own over all the pages.
 */
import { EXIT, EXIT_STATUS_HELP } from '../cli/errors.js';
import type { CliIO, Command } from '../cli/main.js';
import { estimateJson } from '../estimate/json.js';
import { loadProfile } from '../estimate/profile.js';
import { formatTable } from '../estimate/table.js';
import { mergeShardResults, readShardResult } from './merge.js';
import { parseCpuCap } from '../estimate/policy-options.js';
import { summarize } from '../estimate/summary.js';
import { formatVerdict } from '../estimate/verdict.js';

export const mergeCommand: Command = {
  name: 'merge',
  stringFlags: ['profile', 'cpu-cap'],
  register(prog, { io }) {
    prog
      .command('merge')
      .describe([
        'Merge the shard results of a map/reduce estimate: ksm-wasm merge RESULT… (one per shard, from estimate --from FILE --shard I/K --json).',
        EXIT_STATUS_HELP,
      ])
      .option('--json', 'Print the estimate as JSON on stdout (its keys: docs/estimate-json.md)', false)
      .option('--profile', 'Clock profile from ksm-wasm calibrate, for simulated_ms and ksmd_cpu_ms')
      .option('--cpu-cap', 'The verdict\'s cap on ksmd\'s CPU, % of one core (default 10)')
      .option('--verdict', 'End with the verdict (--no-verdict: leave it out)', true)
      .example('merge shard-*.json --json')
      .action(async (opts: Record<string, unknown> & { _: unknown[] }) => merge(opts, io));
  },
};

async function merge(opts: Record<string, unknown> & { _: unknown[] }, io: CliIO): Promise<number> {
  const profile = loadProfile(typeof opts.profile === 'string' ? opts.profile : undefined);
  const cap = parseCpuCap(typeof opts['cpu-cap'] === 'string' ? opts['cpu-cap'] : undefined);
  const run = mergeShardResults(opts._.map(String).map(readShardResult), profile);
  io.out(opts.json === true ? `${JSON.stringify(estimateJson(run), null, 1)}\n` : formatTable(run));
  if (opts.json !== true && opts.verdict !== false) {
    io.out(`\n${formatVerdict({ run, savedBytes: summarize(run).savedBytes, cap, hostGiven: false, domains: undefined, domainsFromMapping: false }).join('\n')}\n`);
  }
  if (!run.converged) io.err(`ksm-wasm merge: the merge state did not settle within the shards' --max-scans ${run.scans.length} (last change after full scan ${run.settledAt})\n`);
  return EXIT.done;
}
