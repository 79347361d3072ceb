/**
 * Every ```js run block of the docs runs as it is, against the built package (imported by its
 * name, as a user would), and prints exactly the lines its `// →` comments say.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const DOCS = ['docs/api.md', 'README.md'];
const HEADER = "import { Ksm, KsmError, formatKsmStat } from 'ksm-wasm';\n";

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

function blocks(file: string): { code: string; expected: string; line: number }[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found: { code: string; expected: string; line: number }[] = [];
  const fence = /```js run\n([\s\S]*?)```/g;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const code = m[1];
    const expected = code.split('\n').filter((l) => l.trim().startsWith('// →')).map((l) => l.trim().slice(4)).join(' ');
    found.push({ code, expected, line: text.slice(0, m.index).split('\n').length });
  }
  return found;
}

const test = suite('documentation examples');
// Inside the package, so that 'ksm-wasm' resolves to this package itself (its "exports").
const dir = mkdtempSync(join(root, 'tmp-docs-'));

for (const file of DOCS) {
  for (const { code, expected, line } of blocks(file)) {
    test(`${file}:${line} runs and prints what it says`, () => {
      const path = join(dir, `block-${line}.mjs`);
      writeFileSync(path, (code.includes("from 'ksm-wasm'") ? '' : HEADER) + code);
      const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
      const out = execFileSync(process.execPath, [path], { encoding: 'utf8', timeout: 30_000, env });
      assert.is(squash(out), squash(expected));
    });
  }
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
