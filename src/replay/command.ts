/**
 * `ksm-wasm replay SCRIPT.json [--images DIR] [--json] [--engine wasm|reference]`: replays a
 * script of the kernel oracle (oracle/README.md, "Scripted mode") through the engine. Registered
 * on the CLI by src/cli/main.ts.
 *
 * Exit status (src/cli/errors.ts): 0 if every expectation held and every page read back as written;
 * 1 if not (as the oracle's ksm_script.py); 2 for bad input or usage (one line on stderr naming the
 * step and the problem; nothing is replayed).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CliError, EXIT, EXIT_STATUS_HELP } from '../cli/errors.js';
import { openImageDirectory, readWhole } from '../cli/inputs.js';
import type { CliIO, Command } from '../cli/main.js';
import { stepLines, summaryLine } from './report.js';
import { prepareReplay, runPrepared } from './runner.js';
import { parseScript } from './script.js';

export interface ReplayCommandOptions {
  images?: string;
  json?: boolean;
  engine?: string;
}

export const replayCommand: Command = {
  name: 'replay',
  stringFlags: ['images', 'engine'],
  register(prog, { io }) {
    prog
      .command('replay [SCRIPT.json]') // required; checked below, so that its absence is a usage error like any other
      .describe([
        'Replay a script of writes, forks, exits and unmerges through the engine (the kernel oracle\'s format), with a snapshot and the script\'s expectations after every step.',
        EXIT_STATUS_HELP,
      ])
      .option('--images', 'Directory with guest0.img, guest1.img, ...: the guests (the script then gives only their flags)')
      .option('--json', 'Print the result as JSON (the shape of the oracle\'s results/dynamic/*.json)', false)
      .option('--engine', 'wasm or reference', 'wasm')
      .example('replay scripts/01_cow_break.json')
      .example('replay scripts/90_images_smoke.json --images images/small --json')
      .action((script: string | undefined, options: ReplayCommandOptions) => {
        if (script === undefined) throw new CliError('usage', 'missing the SCRIPT.json to replay');
        return runReplayCommand(script, options, io);
      });
  },
};

/** Runs the command; resolves to 0 (every check held) or 1 (one failed). Bad input throws a CliError naming the script. */
export async function runReplayCommand(scriptPath: string, options: ReplayCommandOptions, io: CliIO): Promise<number> {
  const engine = checkedOptions(options);
  let text: string;
  try {
    text = readFileSync(scriptPath, 'utf8');
  } catch (error) {
    throw new CliError('input', `${scriptPath}: cannot read the script (${(error as Error).message.split(',')[0]})`);
  }
  const prepared = await prepare(scriptPath, text, options, engine, io).catch((error: unknown) => {
    throw error instanceof CliError ? error.within(scriptPath) : error;
  });
  const { script } = prepared;
  const human = !options.json;
  if (human) io.out(`replay ${script.name}: ${prepared.guests.length} guests, ${script.steps.length} steps (engine ${engine})\n`);
  const result = runPrepared(prepared);
  const ok = result.expectations.failed === 0 && result.contents_all_ok;
  if (options.json) {
    io.out(`${JSON.stringify(result, null, 1)}\n`);
    if (!ok) io.err(`${summaryLine(script.name, result)}\n`);
  } else {
    io.out(`${summaryLine(script.name, result)}\n`);
  }
  return ok ? EXIT.done : EXIT.checkFailed;
}

function checkedOptions(options: ReplayCommandOptions): 'wasm' | 'reference' {
  const engine = options.engine ?? 'wasm';
  if (engine !== 'wasm' && engine !== 'reference') throw new CliError('usage', `--engine must be "wasm" or "reference", got ${JSON.stringify(engine)}`);
  if (options.images === '') throw new CliError('usage', '--images needs a directory');
  return engine;
}

/** Everything before the first step: the script parsed and checked, the guests made. Prints nothing. */
async function prepare(scriptPath: string, text: string, options: ReplayCommandOptions, engine: 'wasm' | 'reference', io: CliIO) {
  const script = parseScript(text, basename(scriptPath).replace(/\.json$/, ''));
  const images = options.images !== undefined ? openImageDirectory(options.images, '--images').map(readWhole) : undefined;
  return prepareReplay(script, {
    images, imagesPath: options.images, scriptPath, engine,
    onStep: options.json ? undefined : (record) => io.out(`${stepLines(record).join('\n')}\n`),
  });
}
