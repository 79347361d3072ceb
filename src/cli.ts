#!/usr/bin/env node
/**
 * The `ksm-wasm` command. Everything happens in src/cli/main.ts (the commands, their flags, the exit
 * statuses); this file only hands it the process.
 */
import { processIO, reportError, runCli } from './cli/main.js';

// A reader that stops early (`| head`) is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  process.exit(error.code === 'EPIPE' ? Number(process.exitCode ?? 0) : reportError(error, undefined, processIO));
});

process.exitCode = await runCli(process.argv);
