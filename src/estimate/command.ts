/**
 * `ksm-wasm estimate`: registered on the CLI by src/cli/main.ts. Opens every input first (so a bad
 * one is refused before any work), runs the estimate, then prints the table or the JSON and writes
 * the report. Nothing is written unless the whole run succeeded. A run that did not settle within
 * --max-scans is still done (exit 0): it says so on stderr, and the JSON's settled_at_full_scan is null.
 */
import { writeFileSync } from 'node:fs';
import { CliError, EXIT, EXIT_STATUS_HELP } from '../cli/errors.js';
import { openInputs } from '../cli/inputs.js';
import type { CliIO, Command } from '../cli/main.js';
import { estimateJson } from './json.js';
import { estimateOptions, VALUE_FLAGS } from './options.js';
import { announceRead, progressReporter } from './progress.js';
import { htmlReport } from './report.js';
import { loadProfile } from './profile.js';
import { checkCap, memoryCap, runEstimate } from './run.js';
import { formatTable } from './table.js';

export const estimateCommand: Command = {
  name: 'estimate',
  stringFlags: VALUE_FLAGS, // knob values stay text, and are checked as the kernel would
  register(prog, { io, argv }) {
    prog
      .command('estimate')
      .describe([
        'Estimate what KSM would merge: ksm-wasm estimate [IMAGE…] [--scenario NAME] [--pid PID…].',
        'Each IMAGE (a raw file of 4096-byte pages, or an ELF core file) is one address space, scanned in the order given, with the kernel\'s counters after each full scan.',
        EXIT_STATUS_HELP,
      ])
      .option('--scenario', 'Built-in workload: clones or mixed (repeatable)')
      .option('--pid', 'Live process to read through /proc (repeatable, or comma-separated)')
      .option('--pages-to-scan', 'Pages per ksmd batch (default 100)')
      .option('--sleep-millisecs', 'Sleep between batches, ms (default 20)')
      .option('--max-page-sharing', 'Most mappings per KSM page (>= 2) (default 256)')
      .option('--use-zero-pages', 'Merge zero pages into the zero page (0|1) (default 0)')
      .option('--smart-scan', 'Skip pages that keep failing to merge (0|1) (default 1)')
      .option('--merge-across-nodes', 'Merge across NUMA nodes (0|1; one node is modelled) (default 1)')
      .option('--stable-node-chains-prune-millisecs', 'Minimum ms between prunes of one chain (default 2000)')
      .option('--advisor', 'none or scan-time (the advisor sets pages_to_scan) (default none)')
      .option('--max-scans', 'Stop after this many full scans (default 50)')
      .option('--stable-scans', 'Stop once the merge state is unchanged for this many full scans (default 3)')
      .option('--max-memory', 'Engine memory cap, MiB (at most 4096) (default: what the inputs need)')
      .option('--profile', 'Clock profile from ksm-wasm calibrate, for simulated_ms and ksmd_cpu_ms (default: the one shipped, measured on the reference host)')
      .option('--json', 'Print the JSON of DESIGN.md on stdout', false)
      .option('--report', 'Also write a self-contained HTML report to this file')
      .example('estimate guest0.img guest1.img --pages-to-scan 5000')
      .example('estimate --scenario clones --report clones.html')
      .action(async (opts: Record<string, unknown> & { _: unknown[] }) => estimate(opts, argv, io));
  },
};

async function estimate(opts: Record<string, unknown> & { _: unknown[] }, argv: readonly string[], io: CliIO): Promise<number> {
  const options = estimateOptions(opts, argv);
  const profile = loadProfile(options.profile);
  const sources = openInputs(options.inputs);
  const maxMemory = options.maxMemory ?? memoryCap(sources);
  checkCap(sources, maxMemory);
  announceRead(sources.reduce((n, s) => n + s.pages, 0), io.err);
  const run = await runEstimate(sources, { ...options, profile, maxMemory, onScan: progressReporter(io.err) });
  const report = options.report ? htmlReport(run) : undefined;
  io.out(options.json ? `${JSON.stringify(estimateJson(run), null, 1)}\n` : formatTable(run));
  if (!run.converged) io.err(`ksm-wasm estimate: the merge state did not settle within --max-scans ${options.maxScans} (last change after full scan ${run.settledAt})\n`);
  if (options.report && report) writeReport(options.report, report);
  return EXIT.done;
}

function writeReport(path: string, html: string): void {
  try {
    writeFileSync(path, html);
  } catch (error) {
    throw new CliError('input', `--report ${path}: ${(error as Error).message}`);
  }
}
