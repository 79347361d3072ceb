#!/usr/bin/env node
/**
 * The `ksm-wasm` command: argument parsing only. Each command lives in its own module. Errors
 * become one line on stderr and an exit status: 1 for bad input, 2 for bad usage.
 */
import { readFileSync } from 'node:fs';
import sade from 'sade';
import { KsmError } from './errors.js';
import { registerEstimate, ESTIMATE_STRING_FLAGS } from './estimate/command.js';
import { InputError, UsageError } from './estimate/errors.js';
import { registerReplay } from './replay/command.js';

const COMMANDS = ['estimate', 'replay'];

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}

function fail(error: unknown): never {
  if (error instanceof UsageError) {
    process.stderr.write(`ksm-wasm: ${error.message} (see ksm-wasm --help)\n`);
    process.exit(2);
  }
  if (error instanceof InputError || error instanceof KsmError) {
    process.stderr.write(`ksm-wasm: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(1);
  }
  process.stderr.write(`ksm-wasm: internal error: ${(error as Error)?.message ?? String(error)}\n`);
  if (process.env.KSM_WASM_DEBUG) console.error(error);
  process.exit(70);
}

async function main(argv: string[]): Promise<void> {
  const prog = sade('ksm-wasm').version(version());
  registerEstimate(prog);
  registerReplay(prog);
  const first = argv[2];
  if (first === undefined) throw new UsageError(`no command given (${COMMANDS.join(', ')})`);
  if (!first.startsWith('-') && !COMMANDS.includes(first)) throw new UsageError(`unknown command "${first}" (${COMMANDS.join(', ')})`);
  if (first === 'replay' && !argv.slice(3).some((a) => !a.startsWith('-')) && !argv.includes('--help') && !argv.includes('-h')) {
    throw new UsageError('replay: missing the SCRIPT.json to replay');
  }
  const parsed = prog.parse(argv, {
    lazy: true,
    string: first === 'estimate' ? ESTIMATE_STRING_FLAGS : [],
    unknown: (flag: string) => {
      // mri reads "--pages-to-scan -1" as the option "-1": say what is really wrong.
      if (/^-\d/.test(flag)) throw new UsageError(`${flag}: negative values are not taken (knobs and scan limits are non-negative integers)`);
      throw new UsageError(`unknown option ${flag}`);
    },
  });
  if (parsed) await parsed.handler(...parsed.args);
}

main(process.argv).catch(fail);
