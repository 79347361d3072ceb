/**
 * The top level every `ksm-wasm` command runs under: it finds the command, parses its flags, runs
 * it, and turns how it ended into an exit status (errors.ts): a CliError is one line on stderr, a
 * library refusal (KsmError) the same with its code, and anything else an internal error.
 */
import { readFileSync } from 'node:fs';
import sade, { type Sade } from 'sade';
import { KsmError } from '../errors.js';
import { calibrateCommand } from '../calibrate/command.js';
import { estimateCommand } from '../estimate/command.js';
import { replayCommand } from '../replay/command.js';
import { fingerprintCommand } from '../fingerprint/command.js';
import { mergeCommand } from '../shards/merge-command.js';
import { CliError, EXIT, EXIT_STATUS_HELP, ksmErrorText } from './errors.js';

/** Where a command writes, and the environment it reads (KSM_WASM_DEBUG). */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

export const processIO: CliIO = {
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
  env: process.env,
};

export interface CommandContext {
  io: CliIO;
  /** The command line after the command's name (for commands where the order of flags matters). */
  argv: readonly string[];
}

/** A command: its name, the flags it keeps as text, and its registration (an action that resolves to an exit status). */
export interface Command {
  name: string;
  stringFlags?: readonly string[];
  register: (prog: Sade, context: CommandContext) => void;
}

/** Every command. A new one (fingerprint, merge, calibrate, …) is a Command in its own module, added here. */
export const COMMANDS: readonly Command[] = [estimateCommand, fingerprintCommand, mergeCommand, replayCommand, calibrateCommand];

/** Runs one command line (`argv` as process.argv: node, script, command, ...) and returns its exit status. Never throws. */
export async function runCli(argv: readonly string[], io: CliIO = processIO, commands: readonly Command[] = COMMANDS): Promise<number> {
  const command = commands.find((c) => c.name === argv[2]);
  try {
    const prog = sade('ksm-wasm').version(String(packageField('version') ?? '0.0.0'))
      .describe(['Linux KSM as WebAssembly: what KSM would merge, and how fast.', EXIT_STATUS_HELP]);
    for (const c of commands) c.register(prog, { io, argv: argv.slice(3) });
    if (!command) return refuseOrHelp(prog, argv, commands);
    const parsed = prog.parse([...argv], { lazy: true, string: [...(command.stringFlags ?? [])], unknown: (flag) => unknownFlag(flag, argv) });
    const status = parsed ? await parsed.handler(...parsed.args) : undefined;
    return typeof status === 'number' ? status : EXIT.done;
  } catch (error) {
    return reportError(error, command?.name, io);
  }
}

/** No command given: only --help and --version are taken (sade would exit 1 on anything else). */
function refuseOrHelp(prog: Sade, argv: readonly string[], commands: readonly Command[]): number {
  const first = argv[2];
  const names = commands.map((c) => c.name).join(', ');
  if (first === undefined) throw new CliError('usage', `no command given (${names})`);
  if (!['-h', '--help', '-v', '--version'].includes(first)) {
    throw new CliError('usage', first.startsWith('-') ? `unknown option ${first} (give a command first: ${names})` : `unknown command "${first}" (${names})`);
  }
  prog.parse([...argv]);
  return EXIT.done;
}

function unknownFlag(flag: string, argv: readonly string[]): never {
  // mri reads "--pages-to-scan -1" as the option "-1": say what is really wrong, and whose value it was.
  if (/^-\d/.test(flag)) {
    const at = argv.findIndex((token) => token.startsWith(flag)); // mri cuts "-1G" or "-1/2" down to "-1"
    const before = argv[at - 1];
    const owner = before?.startsWith('--') && !before.includes('=') ? `${before} ` : '';
    throw new CliError('usage', `${owner}${argv[at] ?? flag}: negative values are not taken (knobs, scan limits, sizes, shards and pids are non-negative)`);
  }
  throw new CliError('usage', `unknown option ${flag}`);
}

/** Prints how a command failed, on one line (the stack too for an internal error under KSM_WASM_DEBUG=1); returns the exit status. */
export function reportError(error: unknown, command: string | undefined, io: CliIO): number {
  const prefix = command ? `ksm-wasm ${command}: ` : 'ksm-wasm: ';
  if (error instanceof CliError) {
    const hint = error.kind === 'usage' ? ` (see ksm-wasm ${command ? `${command} ` : ''}--help)` : '';
    io.err(`${prefix}${oneLine(error.message)}${hint}\n`);
    return error.exitStatus;
  }
  if (error instanceof KsmError) {
    // A refusal the command did not put in its own words: still the input's fault, said as the library says it.
    io.err(`${prefix}${oneLine(ksmErrorText(error))}\n`);
    return EXIT.badInput;
  }
  const debug = Boolean(io.env.KSM_WASM_DEBUG) && io.env.KSM_WASM_DEBUG !== '0';
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  io.err(`${prefix}internal error (a bug in ksm-wasm, not a problem with the input): ${oneLine(what)}; please report it ${reportTo()} ` +
    `with the command line${debug ? '' : ' (KSM_WASM_DEBUG=1 prints the stack)'}\n`);
  if (debug && error instanceof Error && error.stack) io.err(`${error.stack}\n`);
  return EXIT.internal;
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ');

/** The package's bug tracker if package.json names one. */
function reportTo(): string {
  const bugs = packageField('bugs') as { url?: string } | string | undefined;
  const url = typeof bugs === 'string' ? bugs : bugs?.url;
  return url ? `at ${url}` : 'to the ksm-wasm maintainers';
}

function packageField(name: string): unknown {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))[name];
  } catch {
    return undefined;
  }
}
