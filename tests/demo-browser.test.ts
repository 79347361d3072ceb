/**
 * The demo page, end to end, in a real Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core; never a downloaded browser build). Builds the static site, serves it on
 * 127.0.0.1, and works it through its controls only: ksmd merges the guests, run=2 unmerges
 * everything, a guest's writes break copy-on-write. Saves a screenshot to out/demo.png.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error: a plain .mjs script, no type declarations
import { staticServer } from '../scripts/serve.mjs';
import { skipTest } from './helpers/can-run.js';
import { launchChromium, noChromium } from './helpers/chromium.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SITE = `${ROOT}dist/demo`;
const SCREENSHOT = `${ROOT}out/demo.png`;
/** Longest wait for one thing to happen on the page (merging takes about 5 s at the demo's pace). */
const WAIT_MS = 20_000;

const test = suite('demo page in Chromium');

const noBrowser = noChromium();
if (noBrowser) {
  skipTest(test, 'end to end', noBrowser);
} else {
  let server: Server;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const counter = async (name: string) => Number(await page.locator(`[data-counter="${name}"]`).textContent());
  /** Waits until `[data-counter=name]` satisfies `test` (a function body over `n`). */
  const waitCounter = (name: string, predicate: string) => page.waitForFunction(
    ([name, predicate]) => {
      const n = Number(document.querySelector(`[data-counter="${name}"]`)?.textContent);
      return new Function('n', `return ${predicate}`)(n);
    },
    [name, predicate] as const,
    { timeout: WAIT_MS, polling: 100 },
  );
  const mapImage = (guest: string) => page.locator(`[data-guest="${guest}"] canvas`).evaluate((c: HTMLCanvasElement) => c.toDataURL());

  test.before(async () => {
    execFileSync(process.execPath, ['scripts/build-demo.mjs'], { cwd: ROOT, stdio: 'pipe' });
    server = staticServer(SITE);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console error: ${message.text()}`); });
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    page.on('response', (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`); });
  });

  test.after(async () => {
    await browser?.close();
    await new Promise((resolve) => server ? server.close(resolve) : resolve(undefined));
  });

  test('loads, boots the guests and starts ksmd at once', async () => {
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body.ready', { timeout: WAIT_MS });
    const guests = await page.locator('[data-guest]').count();
    assert.ok(guests >= 4 && guests <= 12, `4 to 12 guests, got ${guests}`);
    assert.is(await page.locator('select[data-knob="run"]').inputValue(), '1', 'run=1 once loaded');
    await waitCounter('pages_scanned', 'n > 0');
    for (const name of ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'full_scans', 'general_profit', 'cow_ksm']) {
      const text = (await page.locator(`[data-counter="${name}"]`).textContent()) ?? '';
      assert.match(text, /^-?\d+$/, `${name} shows just a number, got "${text}"`);
    }
  });

  test('pages merge: pages_sharing rises above 0', async () => {
    await waitCounter('pages_sharing', 'n > 0');
    assert.ok((await counter('pages_shared')) > 0, 'pages_shared > 0');
  });

  test('hovering a page shows its state and frame', async () => {
    await page.locator('[data-guest] canvas').first().hover({ position: { x: 4, y: 4 } });
    const tip = page.locator('#tooltip');
    await tip.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.match((await tip.textContent()) ?? '', /page 0 .*frame \d+/s);
    await page.mouse.move(0, 0);
  });

  test('run=2 unmerges everything: pages_sharing falls to 0', async () => {
    await page.locator('select[data-knob="run"]').selectOption('2');
    await waitCounter('pages_sharing', 'n === 0');
    assert.is(await counter('pages_shared'), 0, 'pages_shared');
    assert.is(await counter('full_scans'), 0, 'full_scans is reset');
    assert.is(await page.locator('[data-pace]').textContent(), 'ksmd is stopped');
  });

  test('a guest\'s writes break copy-on-write (cow_ksm rises, its map changes)', async () => {
    await page.locator('select[data-knob="run"]').selectOption('1');
    for (const slider of await page.locator('[data-writes]').all()) await slider.press('Home'); // all guests idle
    await waitCounter('pages_sharing', 'n > 0');
    await page.waitForTimeout(1_000); // let the first pages of guest-1's working set merge
    const cowBefore = await counter('cow_ksm');
    const mapBefore = await mapImage('guest-1');
    const slider = page.locator('[data-guest="guest-1"] [data-writes]');
    await slider.press('End'); // the most writes per second
    assert.is(await page.locator('[data-guest="guest-1"] [data-writes-out]').textContent(), '50/s');
    await waitCounter('cow_ksm', `n > ${cowBefore}`);
    assert.is.not(await mapImage('guest-1'), mapBefore, 'guest-1 page map changed');
  });

  test('sharing domains: the guests reboot in two tenants, each card carries its domain, and pages still merge inside them', async () => {
    const guests = await page.locator('[data-guest]').count();
    await page.locator('#domains').selectOption('tenants');
    await page.waitForFunction((n) => document.querySelectorAll('[data-guest] [data-domain]:not(:empty)').length === n, guests, { timeout: WAIT_MS });
    const domains = new Set(await page.locator('[data-guest] [data-domain]').allTextContents());
    assert.equal([...domains].sort(), ['tenant A', 'tenant B']);
    await waitCounter('pages_sharing', 'n > 0');
  });

  test('policy ksmtuned: a host short of memory starts ksmd with a boost; a roomy host stops it', async () => {
    const slider = page.locator('#host-memory');
    await slider.press('Home'); // 4 MiB: less than the guests hold
    await page.locator('#policy').selectOption('ksmtuned');
    await page.waitForFunction(() => /ksmtuned boosted pages_to_scan/.test(document.querySelector('#policy-status')?.textContent ?? ''), undefined, { timeout: WAIT_MS });
    assert.is(await page.locator('select[data-knob="run"]').inputValue(), '1');
    await slider.press('End'); // 64 MiB: plenty
    await page.waitForFunction(() => /ksmtuned stopped ksmd/.test(document.querySelector('#policy-status')?.textContent ?? ''), undefined, { timeout: WAIT_MS });
    assert.is(await page.locator('select[data-knob="run"]').inputValue(), '0');
    await page.locator('#policy').selectOption('manual');
    await page.locator('select[data-knob="run"]').selectOption('1');
  });

  test('no page errors, console errors or failed requests; screenshot saved', async () => {
    await page.waitForTimeout(1_500); // a few copies on write, then back to a calm page
    for (const slider of await page.locator('[data-writes]').all()) await slider.press('Home'); // (the guests were rebooted in domains)
    mkdirSync(`${ROOT}out`, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.equal(problems, [], 'problems seen in the browser');
    assert.is(await page.locator('#errors').isHidden(), true, 'no error shown on the page');
    console.log(`  screenshot: ${SCREENSHOT}`);
  });
}

test.run();
