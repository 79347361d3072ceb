// Runs the uvu suite (TypeScript through tsx) and ends with the plain closing line
// "N passed, N failed, N skipped", so any CI reads the result the same way. Above it, every test
// that could not run here, with the reason (the "SKIPPED ..." lines of tests/helpers/can-run.ts).
// Exit status: 1 if any test failed or uvu ended without its summary, else uvu's. (uvu 0.5 exits 0,
// and prints nothing, when a suite's before hook throws: its tests count as not passed.)
import { spawn } from 'node:child_process';

const pattern = process.argv[2] ?? '.*\\.test\\.ts$';
const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'tests', pattern], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (chunk) => { out += chunk; process.stdout.write(chunk); });
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (label) => Number(plain.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
  const [total, passed, skipped] = [count('Total'), count('Passed'), count('Skipped')];
  const reasons = plain.match(/^ *SKIPPED .*$/gm) ?? [];
  if (reasons.length) console.log(`\nNot run here:\n${reasons.join('\n')}`);
  if ([total, passed, skipped].some(Number.isNaN)) {
    console.log(`\nuvu ended without its summary (exit ${code}, signal ${child.signalCode}): the suite did not finish`);
    console.log(`${Number.isNaN(passed) ? 0 : passed} passed, 1 failed, ${Number.isNaN(skipped) ? 0 : skipped} skipped`);
    process.exit(1);
  }
  const failed = total - passed;
  const shown = (plain.match(/^\s*FAIL\s/gm) ?? []).length;
  if (failed > shown) {
    const suites = plain.match(/^.*\(\s*\d+ \/ \d+\)\s*$/gm)?.filter((l) => { const [, n, m] = /\((\d+) \/ (\d+)\)/.exec(l) ?? []; return n !== m; }) ?? [];
    console.log(`\n${failed - shown} test(s) did not pass and uvu shows no failure for them: a before hook threw (uvu 0.5 says nothing about it). Suites short of tests:\n${suites.join('\n')}`);
  }
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed > 0 ? 1 : code ?? 1);
});
