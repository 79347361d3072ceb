/**
 * `ksm-wasm replay SCRIPT.json [--images DIR] [--json] [--engine wasm|reference]`: replays a
 * script of the kernel oracle (oracle/README.md, "Scripted mode") through the engine. Registered
 * on the CLI by src/cli.ts.
 *
 * Exit status: 0 if every expectation held and every page read back as written; 1 if not (as the
 * oracle's ksm_script.py); 2 for bad input or usage (one line on stderr naming the step and the
 * problem; nothing is replayed); 70 for an internal error (as the rest of the CLI).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Sade } from 'sade';
import { PAGE_SIZE } from '../backend.js';
import { stepLines, summaryLine } from './report.js';
import { prepareReplay, runPrepared, type ReplayResult } from './runner.js';
import { parseScript, ReplayInputError } from './script.js';

export interface ReplayCommandOptions {
  images?: string | number | boolean;
  json?: boolean;
  engine?: string;
}

export interface CommandIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIO: CommandIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** guest0.img, guest1.img, ... of an image directory, as the oracle finds them. */
export function readImages(dir: string): Uint8Array[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ReplayInputError(`--images ${dir}: not a directory`);
  const images: Uint8Array[] = [];
  for (let i = 0; existsSync(join(dir, `guest${i}.img`)); i++) {
    const path = join(dir, `guest${i}.img`);
    const size = statSync(path).size;
    if (size === 0 || size % PAGE_SIZE !== 0) throw new ReplayInputError(`${path}: size ${size} is not a positive multiple of ${PAGE_SIZE}`);
    images.push(new Uint8Array(readFileSync(path)));
  }
  if (images.length === 0) throw new ReplayInputError(`--images ${dir}: no guest0.img there`);
  return images;
}

/** Runs the command; returns the exit status. Never throws. */
export async function runReplayCommand(scriptPath: string, options: ReplayCommandOptions, io: CommandIO = defaultIO): Promise<number> {
  const fail = (message: string): number => {
    io.err(`ksm-wasm replay: ${scriptPath}: ${message}\n`);
    return 2;
  };
  let result: ReplayResult;
  let name: string;
  try {
    const engine = options.engine ?? 'wasm';
    if (engine !== 'wasm' && engine !== 'reference') return fail(`--engine must be "wasm" or "reference", got ${JSON.stringify(engine)}`);
    // The option parser turns a numeric-looking directory name into a number.
    if (typeof options.images === 'number') options = { ...options, images: String(options.images) };
    if (options.images !== undefined && typeof options.images !== 'string') return fail('--images needs a directory');
    let text: string;
    try {
      text = readFileSync(scriptPath, 'utf8');
    } catch (error) {
      return fail(`cannot read the script (${(error as Error).message.split(',')[0]})`);
    }
    const script = parseScript(text, basename(scriptPath).replace(/\.json$/, ''));
    name = script.name;
    const images = options.images !== undefined ? readImages(options.images) : undefined;
    const human = !options.json;
    const prepared = await prepareReplay(script, {
      images, imagesPath: options.images, scriptPath, engine,
      onStep: human ? (record) => io.out(`${stepLines(record).join('\n')}\n`) : undefined,
    });
    if (human) io.out(`replay ${name}: ${prepared.guests.length} guests, ${script.steps.length} steps (engine ${engine})\n`);
    result = runPrepared(prepared);
  } catch (error) {
    if (error instanceof ReplayInputError) return fail(error.message);
    io.err(`ksm-wasm replay: ${scriptPath}: internal error: ${(error as Error)?.message ?? String(error)}\n`);
    return 70;
  }
  const ok = result.expectations.failed === 0 && result.contents_all_ok;
  if (options.json) {
    io.out(`${JSON.stringify(result, null, 1)}\n`);
    if (!ok) io.err(`${summaryLine(name, result)}\n`);
  } else {
    io.out(`${summaryLine(name, result)}\n`);
  }
  return ok ? 0 : 1;
}

export function registerReplay(prog: Sade): void {
  prog
    .command('replay <script>')
    .describe([
      'Replay a script of writes, forks, exits and unmerges through the engine (the kernel oracle\'s format), with a snapshot and the script\'s expectations after every step.',
      'Exit status: 0 all expectations met, 1 an expectation failed or a page read back wrong, 2 bad input (nothing replayed), 70 internal error.',
    ])
    .option('--images', 'Directory with guest0.img, guest1.img, ...: the guests (the script then gives only their flags)')
    .option('--json', 'Print the result as JSON (the shape of the oracle\'s results/dynamic/*.json)', false)
    .option('--engine', 'wasm or reference', 'wasm')
    .example('replay scripts/01_cow_break.json')
    .example('replay scripts/90_images_smoke.json --images images/small --json')
    .action(async (script: string, options: ReplayCommandOptions) => {
      // A reader that stops early (`| head`) is not an error of ours.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
        process.exit(process.exitCode ?? 0);
      });
      process.exitCode = await runReplayCommand(script, options);
    });
}
