/**
 * The demo page's "your own memory images", in a real Chromium (Debian's /usr/bin/chromium, driven
 * by playwright-core): a generated 1 GiB raw image is dropped on the page (as a chosen file: the
 * browser reads it where it lies), streamed in slices and fingerprinted in Web Workers. The page's
 * figures must match what the generator made, its estimate the CLI's on the same file, and the browser's memory (the resident set of every
 * process it runs, sampled while it streams) must stay flat: a 1 GiB image may cost it little more
 * than a 256 MiB one (what both cost is the workers' start-up and the page's own bookkeeping).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
// @ts-expect-error: a plain .mjs script, no type declarations
import { staticServer } from '../scripts/serve.mjs';
import { cannotRun, skipTest } from './helpers/can-run.js';
import { launchChromium, noChromium } from './helpers/chromium.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGE = 4096;
/** Distinct contents shared by the pages that repeat. */
const POOL = 4096;
const MiB = 2 ** 20;
/**
 * The 1 GiB image may make the browser grow by at most this much more than the 256 MiB one: a
 * third of the 768 MiB more it reads (memory that followed the file would grow by all of it). The
 * page itself moves by tens of MiB as its guests run, hence the room.
 */
const SLOPE_LIMIT = 256 * MiB;

const test = suite('demo page: dropped memory images');

/**
 * Page i of the image: every tenth a zero page; i % 10 in 1..4, one of POOL repeated contents;
 * else a page of its own. Each non-zero page carries its identity in its first 16 bytes.
 */
function writeImage(path: string, pages: number): { zeroPages: number; distinct: number } {
  const fd = openSync(path, 'w');
  const chunk = new Uint8Array(1024 * PAGE);
  const words = new DataView(chunk.buffer);
  let zeroPages = 0;
  const pool = new Set<number>();
  let unique = 0;
  for (let first = 0; first < pages; first += 1024) {
    chunk.fill(0);
    for (let k = 0; k < 1024; k++) {
      const i = first + k;
      const kind = i % 10;
      if (kind === 0) { zeroPages++; continue; }
      const repeated = kind <= 4;
      const id = repeated ? (i * 7919) % POOL : i;
      if (repeated) pool.add(id); else unique++;
      const at = k * PAGE;
      words.setUint32(at, repeated ? 0x504f4f4c : 0x554e4951, true); // "POOL" / "UNIQ"
      words.setUint32(at + 4, id, true);
      chunk.fill(id & 0xff, at + 16, at + 16 + (id % 2000));
    }
    writeSync(fd, chunk);
  }
  closeSync(fd);
  return { zeroPages, distinct: pool.size + unique + 1 };
}

/** Resident bytes of every process descended from this one (the browser and all its children). */
function descendantsRss(): number {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const pid of parent.keys()) {
    if (!isDescendant(pid)) continue;
    try {
      total += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch { /* gone */ }
  }
  return total;
}

const noBrowser = noChromium() ?? cannotRun({ files: ['/proc/self/stat'] });
if (noBrowser) {
  skipTest(test, 'a 1 GiB image streams through Web Workers with flat memory', noBrowser);
} else {
  let server: Server;
  let browser: Browser;
  let dir: string;

  test.before(async () => {
    execFileSync(process.execPath, ['scripts/build-demo.mjs'], { cwd: ROOT, stdio: 'pipe' });
    server = staticServer(`${ROOT}dist/demo`);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium();
    dir = mkdtempSync(join(tmpdir(), 'ksm-wasm-demo-image-'));
  });

  test.after(async () => {
    await browser?.close();
    await new Promise((resolve) => server ? server.close(resolve) : resolve(undefined));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Drops a generated image of `pages` pages on a fresh page; checks its figures; the peak growth of the browser's memory. */
  async function dropImage(pages: number): Promise<number> {
    const path = join(dir, `guest-${pages}.img`);
    const expected = writeImage(path, pages);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console error: ${message.text()}`); });
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body.ready', { timeout: 20_000 });
    let baseline = 0; // the most the page takes over a second of its own life before the drop
    for (let i = 0; i < 10; i++, await page.waitForTimeout(100)) baseline = Math.max(baseline, descendantsRss());
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, descendantsRss()); }, 100);
    try {
      await page.locator('#image-files').setInputFiles(path);
      // Memory while it streams: until the fingerprints are all in and the estimate starts.
      await page.waitForSelector('#image-status:not([data-state="reading"]):not([data-state="idle"])', { state: 'attached', timeout: 120_000 });
    } finally {
      clearInterval(sampler);
    }
    await page.waitForSelector('#image-status[data-state="done"], #image-status[data-state="failed"]', { state: 'attached', timeout: 120_000 });
    assert.equal(problems, [], 'problems seen in the browser');
    assert.is(await page.locator('#image-status').getAttribute('data-state'), 'done', await page.locator('#errors').textContent() ?? '');
    const figure = (name: string) => page.locator('#image-figures').getAttribute(`data-${name}`).then(Number);
    assert.is(await figure('pages'), pages);
    assert.is(await figure('zero-pages'), expected.zeroPages);
    assert.is(await figure('distinct'), expected.distinct);
    // The page's estimate on the fingerprints: the CLI's on the same file, full scan by full scan.
    const cli = JSON.parse(execFileSync(process.execPath, [`${ROOT}dist/cli.js`, 'estimate', path, '--mode', 'fingerprints', '--threads', '1', '--json', '--no-verdict'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as { scans: Array<Record<string, number>> };
    const last = cli.scans[cli.scans.length - 1];
    const shown = (name: string) => page.locator('#image-estimate').getAttribute(`data-${name}`).then(Number);
    assert.is(await shown('full-scans'), cli.scans.length, 'full scans to the settled state');
    assert.is(await shown('pages-shared'), last.pages_shared);
    assert.is(await shown('pages-sharing'), last.pages_sharing);
    assert.ok(last.pages_sharing > 0);
    assert.is(await page.locator('#image-estimate svg').count(), 3, "the report's three charts");
    await page.close();
    rmSync(path);
    return peak - baseline;
  }

  test('a 1 GiB image streams through Web Workers with flat memory', async () => {
    const small = await dropImage(65_536);
    const large = await dropImage(262_144);
    console.log(`  browser resident memory while reading: +${(small / MiB).toFixed(0)} MiB for 256 MiB, +${(large / MiB).toFixed(0)} MiB for 1024 MiB`);
    assert.ok(large - small < SLOPE_LIMIT, `reading 768 MiB more made the browser grow by ${((large - small) / MiB).toFixed(0)} MiB more`);
  });

  test('a file that is no image is refused on the page, in one line', async () => {
    const path = join(dir, 'odd.bin');
    writeFileSync(path, new Uint8Array(5000));
    const page = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body.ready', { timeout: 20_000 });
    await page.locator('#image-files').setInputFiles(path);
    await page.waitForSelector('#image-status[data-state="failed"]', { state: 'attached', timeout: 20_000 });
    assert.match(await page.locator('#errors').textContent() ?? '', /odd\.bin: size 5000 bytes is not a multiple of 4096/);
    await page.close();
  });
}

test.run();
