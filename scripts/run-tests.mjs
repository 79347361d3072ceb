// Runs the uvu suite (TypeScript through tsx) and ends with the plain closing line
// "N passed, N failed, N skipped", so any CI reads the result the same way. Exit status: uvu's.
import { spawn } from 'node:child_process';

const pattern = process.argv[2] ?? '.*\\.test\\.ts$';
const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'tests', pattern], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (chunk) => { out += chunk; process.stdout.write(chunk); });
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (label) => Number(plain.match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
  const [total, passed, skipped] = [count('Total'), count('Passed'), count('Skipped')];
  console.log(`\n${passed} passed, ${total - passed} failed, ${skipped} skipped`);
  process.exit(code ?? 1);
});
