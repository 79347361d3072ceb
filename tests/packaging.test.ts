/**
 * The package as a user gets it: `npm pack` of this checkout (as built by `npm test`'s pretest),
 * unpacked into a temporary consumer project's node_modules, with exactly the runtime dependencies
 * its package.json declares (linked to this checkout's installed copies, so it runs offline and in
 * seconds; a module the package needs but does not declare is not found). The consumer's
 * TypeScript compiles with strict and skipLibCheck false against the published .d.ts files, runs
 * in Node, the `ksm-wasm` bin answers, and an esbuild bundle of the consumer runs in Chromium
 * (Debian's /usr/bin/chromium; skipped, with the reason, where it is absent).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cannotRun, testIf } from './helpers/can-run.js';
import { launchChromium, noChromium } from './helpers/chromium.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-packaging-'));
const consumer = join(dir, 'consumer');
const installed = join(consumer, 'node_modules', 'ksm-wasm');

/**
 * The consumer: two guests from one image, a scan that merges them, a copy-on-write break, a typed
 * error, and the reference engine through the package's second entry point. One line of JSON.
 */
const MAIN_TS = `
import { Ksm, KsmError, type KsmStats, type KnobName } from 'ksm-wasm';
import { ReferenceBackend } from 'ksm-wasm/reference';

const ksm = await Ksm.create({ knobs: { pages_to_scan: 1000 } });
const image = new Uint8Array(4 * 4096).map((_, i) => (i * 7) % 251);
const [a, b] = ['a', 'b'].map((name) => ksm.createSpace({ name, image, mergeable: true }));
const knob: KnobName = 'run';
ksm.setKnob(knob, 1);
const merged: KsmStats = ksm.scanFull(2);
a.write(0, new Uint8Array([42]));
let refused = 'accepted';
try { ksm.setKnob('pages_to_scan', -1); } catch (error) { refused = error instanceof KsmError ? error.code : 'untyped'; }
const result = {
  engine: ksm.engine, shared: merged.pagesShared, sharing: merged.pagesSharing,
  a0: a.read(0)[0], b0: b.read(0)[0], cowKsm: ksm.stats().cowKsm, refused,
  reference: typeof ReferenceBackend,
};
console.log('RESULT ' + JSON.stringify(result));
`;

/** What MAIN_TS must print: 4 pages shared by 2 spaces (4 + 4 mappings: 4 sharing), one COW break. */
const EXPECTED = { engine: 'wasm', shared: 4, sharing: 4, a0: 42, b0: 0, cowKsm: 1, refused: 'EINVAL', reference: 'function' };

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [],
    strict: true, skipLibCheck: false, outDir: 'out', rootDir: 'src',
  },
  include: ['src/**/*.ts'],
};

let unpacked = false;
/** Every later test needs the unpacked consumer. */
const needConsumer = () => { if (!unpacked) assert.unreachable('no consumer: packing or unpacking failed (see the first test)'); };

const run = (command: string, args: string[], cwd: string): string =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });

/** The npm that runs us (npm test), or the one on PATH. */
function npm(): [string, string[]] {
  const cli = process.env.npm_execpath;
  return cli && /npm-cli\.js$/.test(cli) ? [process.execPath, [cli]] : ['npm', []];
}

/** The failure's own output (tsc prints its errors on stdout), not Node's "Command failed". */
function outputOf(error: unknown): string {
  const e = error as { stdout?: string; stderr?: string; message: string };
  return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message;
}

const resultLine = (text: string): unknown => JSON.parse(/^RESULT (.*)$/m.exec(text)?.[1] ?? 'null');

const test = suite('packaging: npm pack, installed in a consumer');

// Set up in a test, not a before hook: uvu 0.5 drops a before hook's error without a word.
test('npm pack, unpacked into a consumer with the dependencies the package declares', () => {
  const [command, prefix] = npm();
  const packed = JSON.parse(run(command, [...prefix, 'pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as Array<{ filename: string }>;
  mkdirSync(installed, { recursive: true });
  run('tar', ['-xzf', join(dir, packed[0].filename), '-C', installed, '--strip-components=1'], dir);
  const declared = Object.keys((JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  for (const name of declared) {
    const copy = join(ROOT, 'node_modules', name);
    if (!existsSync(copy)) throw new Error(`the package depends on ${name}, but this checkout has no node_modules/${name} (run npm ci)`);
    mkdirSync(dirname(join(consumer, 'node_modules', name)), { recursive: true });
    symlinkSync(copy, join(consumer, 'node_modules', name), 'dir');
  }
  mkdirSync(join(consumer, 'src'));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  writeFileSync(join(consumer, 'src', 'main.ts'), MAIN_TS);
  unpacked = true;
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the tarball holds the entry points, their types and the core', () => {
  needConsumer();
  for (const file of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/reference/index.js', 'dist/reference/index.d.ts']) {
    assert.ok(existsSync(join(installed, file)), `${file} is in the tarball`);
  }
  // npm test builds the demo site into dist/demo (demo-browser.test.ts): a page, not the library.
  assert.not.ok(existsSync(join(installed, 'dist/demo')), 'the demo site (dist/demo) is not in the tarball');
});

test('the consumer compiles with strict and skipLibCheck false against the published types', () => {
  needConsumer();
  try {
    run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], consumer);
  } catch (error) {
    assert.unreachable(`tsc failed on the consumer:\n${outputOf(error)}`);
  }
});

test('the consumer runs in Node: two spaces merge, a write breaks copy-on-write', () => {
  needConsumer();
  const out = run(process.execPath, ['out/main.js'], consumer);
  assert.equal(resultLine(out), EXPECTED);
});

test('the ksm-wasm bin named in package.json runs from the installed package', () => {
  needConsumer();
  const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string; bin?: Record<string, string> };
  const bin = pkg.bin?.['ksm-wasm'];
  assert.ok(bin, 'package.json names a ksm-wasm bin');
  assert.match(readFileSync(join(installed, bin), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the bin starts with a node shebang');
  assert.is(run(process.execPath, [join(installed, bin), '--version'], consumer).trim(), `ksm-wasm, ${pkg.version}`);
});

testIf(test, noChromium())('an esbuild bundle of the consumer runs in Chromium', async () => {
  needConsumer();
  const bundle = await build({
    entryPoints: [join(consumer, 'out/main.js')], absWorkingDir: consumer, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent',
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    const line = page.waitForEvent('console', { predicate: (m) => m.text().startsWith('RESULT '), timeout: 20_000 });
    await page.setContent('<!doctype html><title>consumer</title>');
    await page.addScriptTag({ type: 'module', content: bundle.outputFiles[0].text });
    const text = await line.then((m) => m.text(), (error: Error) => `no RESULT line (${error.message}); page errors: ${problems.join('; ') || 'none'}`);
    assert.equal(resultLine(text), EXPECTED, text);
  } finally {
    await browser.close();
  }
});

test.run();
