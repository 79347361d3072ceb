/** Running the CLI from the checkout in a child process, and what a refusal must look like. */
import { execFile } from 'node:child_process';
import * as assert from 'uvu/assert';

export const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
export const ROOT = new URL('../..', import.meta.url).pathname;

export interface Result { code: number; stdout: string; stderr: string }

/** `node --import tsx ARGS…` from the checkout's root. */
export function runNode(args: string[], timeout = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, timeout }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** One line on stderr matching `pattern`, exit 2, nothing on stdout, no stack trace. */
export function refused(r: Result, pattern: RegExp): void {
  assert.is(r.code, 2, `exit status 2 (stderr: ${r.stderr})`);
  assert.is(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
}
