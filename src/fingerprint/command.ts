/**
 * `ksm-wasm fingerprint INPUT… -o FILE`: the map step. Reads the inputs as `estimate` does (images,
 * ELF cores, --scenario, --pid, --all, --cgroup) and writes their pages' fingerprint records to one
 * file (file.ts, docs/fingerprint-file.md), for `estimate --from FILE --shard I/K` on any machine.
 * Nothing is written unless every input was read.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError, EXIT, EXIT_STATUS_HELP } from '../cli/errors.js';
import { bytes } from '../cli/format.js';
import { openInputs } from '../cli/inputs.js';
import type { CliIO, Command } from '../cli/main.js';
import { orderedInputs, withSize } from '../estimate/options.js';
import { checkSpaceSizes } from '../estimate/run.js';
import { inputPages } from '../estimate/source.js';
import { writeFingerprintFile } from './file.js';
import { defaultThreads } from '../shards/choose.js';
import { startHashWorkers } from '../shards/worker-host.js';

const VALUE_FLAGS = ['scenario', 'size', 'pid', 'cgroup', 'o', 'output'];

export const fingerprintCommand: Command = {
  name: 'fingerprint',
  stringFlags: VALUE_FLAGS,
  register(prog, { io, argv }) {
    prog
      .command('fingerprint')
      .describe([
        'Fingerprint pages for a sharded estimate on many machines: ksm-wasm fingerprint [IMAGE…] [--scenario NAME] [--pid PID…] -o FILE.',
        'Then: ksm-wasm estimate --from FILE… --shard I/K --json > shard-I.json (one job per shard, I from 0 to K-1), and ksm-wasm merge shard-*.json.',
        EXIT_STATUS_HELP,
      ])
      .option('-o, --output', 'The fingerprint file to write (docs/fingerprint-file.md)')
      .option('--scenario', 'Built-in workload: clones or mixed (repeatable)')
      .option('--size', 'With --scenario: scale it to SIZE (e.g. 64G), its pages generated as read')
      .option('--pid', 'Live process to read through /proc (repeatable, or comma-separated)')
      .option('--all', 'Every process of this host with an address space', false)
      .option('--cgroup', 'Every process of this cgroup v2 directory and its children')
      .option('--merge-any', 'Live processes: every KSM-compatible mapping, as if each opted in now', false)
      .option('--freeze', 'Live processes: stop each one while it is read', false)
      .example('fingerprint guest0.img guest1.img -o host1.kfp')
      .example('fingerprint --scenario clones -o clones.kfp')
      .example('fingerprint --scenario clones --size 64G -o clones-64g.kfp')
      .action(async (opts: Record<string, unknown> & { _: unknown[] }) => fingerprint(opts, argv, io));
  },
};

async function fingerprint(opts: Record<string, unknown> & { _: unknown[] }, argv: readonly string[], io: CliIO): Promise<number> {
  const output = outputPath(opts.output ?? opts.o);
  const inputs = withSize(opts, orderedInputs(opts, argv, VALUE_FLAGS));
  if (inputs.length === 0) throw new CliError('usage', 'nothing to read (give IMAGE files, --scenario NAME, --pid PID, --cgroup PATH or --all)');
  const sources = openInputs(inputs, { question: opts['merge-any'] === true ? 'merge-any' : 'mergeable', freeze: opts.freeze === true, command: 'fingerprint' });
  checkSpaceSizes(sources); // an estimate of the file could not hold them
  const t0 = performance.now();
  // The map step fingerprints on every core (one worker thread each) once the inputs are worth it.
  const threads = defaultThreads(inputPages(sources));
  const workers = threads > 1 ? startHashWorkers(threads) : undefined;
  try {
    const written = writeFingerprintFile(output, sources, workers?.runners);
    io.err(`ksm-wasm fingerprint: ${written.pages} pages of ${sources.length} input${sources.length === 1 ? '' : 's'} in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${threads} thread${threads > 1 ? 's' : ''}: ${output} (${bytes(written.bytes)})\n`);
  } finally {
    await workers?.close();
  }
  return EXIT.done;
}

function outputPath(value: unknown): string {
  if (value === undefined) throw new CliError('usage', 'give the file to write with -o FILE');
  if (Array.isArray(value)) throw new CliError('usage', '-o is given more than once');
  if (typeof value !== 'string' || value === '') throw new CliError('usage', '-o needs a file name');
  const full = resolve(value);
  if (existsSync(full) && statSync(full).isDirectory()) throw new CliError('input', `-o ${value}: is a directory`);
  if (!existsSync(dirname(full))) throw new CliError('input', `-o ${value}: directory ${dirname(full)} does not exist`);
  return full;
}
