/**
 * The demo page: boots the guests, starts ksmd (Ksm.start: a batch every sleep_millisecs on
 * timers, so the page never blocks), and refreshes the page maps, counters and chart a few times a
 * second. Errors are shown on the page.
 */
import { Ksm, KsmError, PAGE_SIZE, type Knobs } from '../src/index.js';
import { Chart, SERIES } from './chart.js';
import { formatBytes, formatMiB, showCounters, syncKnobs, wireKnobs } from './controls.js';
import { Guest, GUEST_PAGES, MAX_GUESTS, baseImage, regionOf } from './guests.js';
import { PageMap, STATES, type PageMapHost } from './pagemap.js';
import { PolicyControl, type PolicyMode } from './policy.js';
import { wireImageCard } from './images/image-card.js';
import { estimateImages, showEstimate } from './images/estimate.js';

/** Slower than the kernel's 100 pages per 20 ms: a full scan takes a few seconds, so you can follow it. */
const START_KNOBS: Partial<Knobs> = { pagesToScan: 50, sleepMillisecs: 40 };
/** Writes per second of the guests booted at load: most idle, two busy. */
const START_WRITES = [0, 0, 4, 0, 0, 12];
const REFRESH_MS = 120;
const SAMPLE_MS = 500;
const WRITE_TICK_MS = 100;

const $ = <T extends HTMLElement>(selector: string, root: ParentNode = document) => root.querySelector<T>(selector)!;

// ---- errors, on the page ------------------------------------------------------------------------

function report(error: unknown): void {
  const box = $('#errors');
  const item = document.createElement('div');
  item.className = 'error';
  // A KsmError reads as the kernel's errno would: its code, then the message (EBUSY: …).
  const text = error instanceof KsmError ? `${error.code}: ${error.message}`
    : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const message = document.createElement('span');
  message.textContent = text;
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = '×';
  close.title = 'dismiss';
  close.addEventListener('click', () => { item.remove(); box.hidden = box.childElementCount === 0; });
  item.append(message, close);
  box.prepend(item);
  while (box.childElementCount > 4) box.lastElementChild!.remove();
  box.hidden = false;
}

addEventListener('error', (event) => report(event.error ?? event.message));
addEventListener('unhandledrejection', (event) => report(event.reason));

/** Runs `fn`, showing any error on the page. */
function guarded(fn: () => void): () => void {
  return () => { try { fn(); } catch (error) { report(error); } };
}

// ---- guests -------------------------------------------------------------------------------------

interface GuestView {
  guest: Guest;
  map: PageMap;
  card: HTMLElement;
  /** The /proc/PID/ksm_stat line as last shown. */
  statHtml?: string;
}

const views: GuestView[] = [];
let ksm: Ksm;
let base: Uint8Array;
let policy: PolicyControl;

// ---- sharing domains ----------------------------------------------------------------------------

type DomainMode = 'one' | 'tenants' | 'guest';
let domainMode: DomainMode = 'one';

/** The sharing domain a new guest gets (a fork stays in its parent's). */
function domainFor(serial: number): string | undefined {
  if (domainMode === 'tenants') return serial % 2 === 1 ? 'tenant A' : 'tenant B';
  if (domainMode === 'guest') return `guest-${serial}`;
  return undefined;
}

/** A colour per domain, the same on every visit. */
function domainColor(domain: string): string {
  let h = 0;
  for (const c of domain) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${(h * 137) % 360} 65% 45%)`;
}

function bootGuest(): Guest {
  return Guest.boot(ksm, base, true, domainFor(Guest.nextSerial));
}

/** A new domain mode: the guests are shut down and as many booted again, with the same write rates. */
function rebootAll(mode: DomainMode): void {
  domainMode = mode;
  const rates = views.map((v) => v.guest.writesPerSecond);
  for (const view of [...views]) shutDownView(view);
  for (const writes of rates) {
    const guest = bootGuest();
    guest.writesPerSecond = writes;
    addGuest(guest);
  }
}
let hovered: { view: GuestView; page: number } | undefined;

const mapHost: PageMapHost = {
  hover(map, page, event) {
    const view = views.find((v) => v.map === map);
    hovered = view && page >= 0 ? { view, page } : undefined;
    const tip = $('#tooltip');
    tip.hidden = !hovered;
    if (hovered) {
      tip.style.left = `${Math.min(event.clientX + 14, innerWidth - 290)}px`;
      tip.style.top = `${event.clientY + 14}px`;
    }
    draw();
  },
  click(map, page) {
    const view = views.find((v) => v.map === map);
    if (!view) return;
    guarded(() => view.guest.scribble(page))();
    refresh();
  },
};

function addGuest(guest: Guest, mergeable = true): void {
  const card = ($<HTMLTemplateElement>('#guest-template').content.firstElementChild as HTMLElement).cloneNode(true) as HTMLElement;
  const view: GuestView = { guest, card, map: new PageMap(GUEST_PAGES, (page) => guest.space.pageInfo(page), mapHost) };
  card.dataset.guest = guest.name;
  $('[data-name]', card).textContent = guest.name;
  const domain = guest.space.domain;
  if (domain !== 'default') {
    $('[data-domain]', card).textContent = domain;
    card.style.setProperty('--domain-color', domainColor(domain));
    card.title = `sharing domain "${domain}": its pages share frames only with guests of this domain`;
  }
  $('[data-origin]', card).textContent = guest.parent ? `fork of ${guest.parent}` : '';
  $('[data-map]', card).append(view.map.canvas);

  const switchInput = $<HTMLInputElement>('[data-mergeable]', card);
  switchInput.checked = mergeable;
  switchInput.addEventListener('change', guarded(() => {
    try {
      if (switchInput.checked) guest.space.mergeable();
      else guest.space.unmergeable(); // KSM pages get private copies now (cow_ksm)
    } catch (error) {
      switchInput.checked = !switchInput.checked;
      throw error;
    }
    refresh();
  }));

  const slider = $<HTMLInputElement>('[data-writes]', card);
  const output = $('[data-writes-out]', card);
  const setWrites = () => { guest.writesPerSecond = Number(slider.value); output.textContent = `${slider.value}/s`; };
  slider.value = String(guest.writesPerSecond);
  slider.addEventListener('input', setWrites);
  setWrites();

  $('[data-fork]', card).addEventListener('click', guarded(() => {
    if (views.length >= MAX_GUESTS) return;
    const child = guest.fork();
    addGuest(child, switchInput.checked);
    refresh();
  }));
  $('[data-shutdown]', card).addEventListener('click', guarded(() => {
    shutDownView(view);
    refresh();
  }));

  views.push(view);
  $('#guests').append(card);
  updateGuestCount();
}

function shutDownView(view: GuestView): void {
  view.guest.shutDown();
  view.card.remove();
  views.splice(views.indexOf(view), 1);
  if (hovered?.view === view) { hovered = undefined; $('#tooltip').hidden = true; }
  updateGuestCount();
}

function updateGuestCount(): void {
  const full = views.length >= MAX_GUESTS;
  $<HTMLButtonElement>('#boot').disabled = full;
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-fork]')) button.disabled = full;
  const text = `${views.length} of at most ${MAX_GUESTS} guests · ${GUEST_PAGES} pages (${formatMiB(GUEST_PAGES * PAGE_SIZE)}) each`;
  if ($('#guest-count').textContent !== text) $('#guest-count').textContent = text;
}

// ---- refreshing ---------------------------------------------------------------------------------

/** Reads every page of every guest from the engine, then repaints. */
function refresh(): void {
  const owners = new Set<number>();
  for (const view of views) view.map.sample(owners);
  draw();
  for (const view of views) {
    const stat = view.guest.space.ksmStat();
    const html = `ksm_merging_pages <b>${stat.ksmMergingPages}</b> · ksm_zero_pages <b>${stat.ksmZeroPages}</b> · ` +
      `ksm_process_profit <b>${formatBytes(stat.ksmProcessProfit)}</b>`;
    if (html !== view.statHtml) $('[data-stat]', view.card).innerHTML = view.statHtml = html;
  }
  showCounters(ksm);
  syncKnobs(ksm);
  if (policy && $('#policy-status').textContent !== policy.status) $('#policy-status').textContent = policy.status;
}

/** The policy select and the host memory slider. */
function wirePolicy(): void {
  const select = $<HTMLSelectElement>('#policy');
  const slider = $<HTMLInputElement>('#host-memory');
  const out = $('#host-memory-out');
  const hostBytes = () => Number(slider.value) * (1 << 20);
  policy = new PolicyControl(ksm, hostBytes(), () => ksm.live().guestBytes, (error) => {
    if (error) report(error);
    if (ksm.knobs.run === 1 && !ksm.running) ksm.start();
    refresh();
  });
  select.addEventListener('change', guarded(() => {
    try {
      policy.setMode(select.value as PolicyMode);
    } catch (error) {
      select.value = policy.mode;
      throw error;
    }
    refresh();
  }));
  slider.addEventListener('input', guarded(() => {
    out.textContent = `${slider.value} MiB`;
    policy.setHostBytes(hostBytes());
  }));
  out.textContent = `${slider.value} MiB`;
  const domains = $<HTMLSelectElement>('#domains');
  domains.addEventListener('change', guarded(() => {
    rebootAll(domains.value as DomainMode);
    refresh();
  }));
}

/** Repaints the maps (no engine reads): the hovered page's frame is outlined wherever it is mapped. */
function draw(): void {
  const info = hovered?.view.map.infos[hovered.page];
  const frame = info && info.frame >= 0 ? info.frame : -1;
  for (const view of views) view.map.draw(frame, hovered?.view === view ? hovered.page : -1);
  if (hovered && info) {
    const state = STATES[hovered.view.map.states[hovered.page]];
    const mapped = info.frame >= 0 ? `frame ${info.frame}, mapped by ${info.mapcount} page${info.mapcount === 1 ? '' : 's'}`
      : info.mapping === 'zero' ? 'the kernel zero page (no frame of its own)' : 'no frame';
    $('#tooltip').innerHTML =
      `<b>${hovered.view.guest.name}</b> · page ${hovered.page} · ${regionOf(hovered.page)}<br>` +
      `<i class="swatch" style="background:${state.color}"></i><b>${state.label}</b>: ${state.help}<br>` +
      `${mapped}${info.mapping === 'cow' ? ' (shared after fork, copy-on-write)' : ''}<br>` +
      `rmap item: ${info.item}${info.item !== 'none' ? ` · age ${info.age}` : ''}` +
      `<br><span class="muted">click: the guest writes to this page</span>`;
  }
}

function buildLegends(): void {
  const legend = $('#legend');
  for (const [key, state] of Object.entries(STATES)) {
    if (key === 'absent') continue; // every guest page here is present
    const li = document.createElement('li');
    li.title = state.help;
    li.innerHTML = `<i class="swatch" style="background:${state.color}"></i>${state.label}`;
    legend.append(li);
  }
  const cow = document.createElement('li');
  cow.title = 'an ordinary frame still shared between a guest and its fork: the first write copies it';
  cow.innerHTML = '<i class="swatch cow"></i>shared with a fork';
  legend.append(cow);
  const chartLegend = $('#chart-legend');
  for (const series of SERIES) {
    const li = document.createElement('li');
    li.innerHTML = `<i class="line${series.dashed ? ' dashed' : ''}" style="border-color:${series.color}"></i>${series.label}`;
    chartLegend.append(li);
  }
}

// ---- start --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  buildLegends();
  ksm = await Ksm.create({ engine: 'wasm', maxMemory: 256 << 20, knobs: START_KNOBS });
  base = baseImage();
  for (const writes of START_WRITES) {
    const guest = bootGuest();
    guest.writesPerSecond = writes;
    addGuest(guest);
  }
  $('#boot').addEventListener('click', guarded(() => {
    if (views.length < MAX_GUESTS) addGuest(bootGuest());
    refresh();
  }));
  wireKnobs(ksm, report, () => {
    if (ksm.knobs.run === 1 && !ksm.running) ksm.start(); // after an error stopped ksmd
    refresh();
  });
  ksm.start(); // run=1: ksmd scans from now on
  wirePolicy();

  const chart = new Chart($<HTMLCanvasElement>('#chart'));
  const sample = () => {
    const live = ksm.live();
    chart.push(performance.now(), {
      guest: live.guestBytes,
      frames: live.framesInUse * PAGE_SIZE,
      saved: live.bytesSavedNow,
      profit: ksm.stats().generalProfit,
    });
  };
  setInterval(guarded(sample), SAMPLE_MS);
  let lastWrites = performance.now();
  setInterval(guarded(() => {
    const now = performance.now();
    for (const view of views) view.guest.tick(now - lastWrites);
    lastWrites = now;
  }), WRITE_TICK_MS);
  let lastRefresh = 0;
  const frame = (now: number) => {
    if (now - lastRefresh >= REFRESH_MS) {
      lastRefresh = now;
      guarded(refresh)();
    }
    requestAnimationFrame(frame);
  };
  refresh();
  sample();
  requestAnimationFrame(frame);
  wireImageCard(report, async (images) => showEstimate(await estimateImages(images), $('#image-estimate')));
  document.body.classList.add('ready');
}

main().catch(report);
