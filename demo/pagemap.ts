/**
 * A guest's page map: one cell per page on a canvas, coloured by the page's state, read from the
 * engine (AddressSpace.pageInfo) at every refresh. Hovering a cell tells its state and frame;
 * clicking it writes to the page.
 */
import type { PageInfo } from '../src/index.js';

/** What a cell shows. The order is the legend's. */
export const STATES = {
  unseen: { color: '#e2e8f0', label: 'not yet seen', help: 'ksmd has not visited the page yet (no rmap item)' },
  volatile: { color: '#94a3b8', label: 'volatile', help: 'its checksum changed since ksmd last looked, so it is not a candidate yet' },
  unstable: { color: '#f59e0b', label: 'unstable tree', help: 'unchanged since the last visit, waiting in the unstable tree for an identical page' },
  ksm: { color: '#047857', label: 'KSM page', help: 'a merged, write-protected frame in the stable tree' },
  sharing: { color: '#6ee7b7', label: 'sharing a KSM page', help: 'maps a KSM page another page already maps: one frame saved' },
  zero: { color: '#38bdf8', label: 'zero page', help: 'all zeros, mapped to the kernel zero page (use_zero_pages=1)' },
  skipped: { color: '#a78bfa', label: 'skipped by smart_scan', help: 'failed to merge for several scans, so smart_scan skips it for a while' },
  broken: { color: '#ef4444', label: 'copied on write', help: 'was merged; a write gave it a private copy, and ksmd has not been back yet' },
  unmergeable: { color: '#475569', label: 'not mergeable', help: 'the guest is not madvised MADV_MERGEABLE: ksmd ignores it' },
  absent: { color: '#ffffff', label: 'not present', help: 'never written (or dropped): no frame' },
} as const;

export type CellState = keyof typeof STATES;
const STATE_LIST = Object.keys(STATES) as CellState[];

/** The state of one page. `owners` collects the KSM frames seen so far in this refresh. */
export function classify(info: PageInfo, owners: Set<number>): CellState {
  switch (info.mapping) {
    case 'unmapped':
    case 'absent': return 'absent';
    case 'zero': return 'zero';
    case 'ksm':
      // The first page met that maps a KSM frame shows the KSM page, the others share it; this
      // is how pages_shared (one per KSM page) and pages_sharing (the rest) count them.
      if (owners.has(info.frame)) return 'sharing';
      owners.add(info.frame);
      return 'ksm';
  }
  if (!info.mergeable) return 'unmergeable';
  switch (info.item) {
    case 'none': return 'unseen';
    case 'unstable': return 'unstable';
    case 'skipped': return 'skipped';
    case 'stable': return 'broken'; // a private frame whose item still sits on a stable node
    default: return 'volatile';
  }
}

export const COLUMNS = 32;
const CELL = 9; // CSS pixels per cell, gap included
const GAP = 1;

export interface PageMapHost {
  /** A page was hovered (page -1: the pointer left). */
  hover(map: PageMap, page: number, event: MouseEvent): void;
  /** A page was clicked. */
  click(map: PageMap, page: number): void;
}

export class PageMap {
  readonly canvas = document.createElement('canvas');
  readonly infos: PageInfo[] = [];
  readonly states: CellState[] = [];
  readonly #ctx: CanvasRenderingContext2D;
  readonly #rows: number;
  /** Something visible changed since the last draw (repainting 12 unchanged canvases is not free). */
  #dirty = true;
  #drawnFrame = -1;
  #drawnHovered = -1;

  constructor(readonly pages: number, readonly read: (page: number) => PageInfo, host: PageMapHost) {
    this.#rows = Math.ceil(pages / COLUMNS);
    const ratio = Math.max(1, Math.round(globalThis.devicePixelRatio || 1));
    this.canvas.width = COLUMNS * CELL * ratio;
    this.canvas.height = this.#rows * CELL * ratio;
    this.canvas.style.width = `${COLUMNS * CELL}px`;
    this.canvas.style.height = `${this.#rows * CELL}px`;
    this.canvas.className = 'pagemap';
    this.#ctx = this.canvas.getContext('2d')!;
    this.#ctx.scale(ratio, ratio);
    const pageAt = (event: MouseEvent) => {
      const box = this.canvas.getBoundingClientRect();
      const col = Math.floor(((event.clientX - box.left) / box.width) * COLUMNS);
      const row = Math.floor(((event.clientY - box.top) / box.height) * this.#rows);
      const page = row * COLUMNS + col;
      return col >= 0 && col < COLUMNS && row >= 0 && page < pages ? page : -1;
    };
    this.canvas.addEventListener('mousemove', (e) => host.hover(this, pageAt(e), e));
    this.canvas.addEventListener('mouseleave', (e) => host.hover(this, -1, e));
    this.canvas.addEventListener('click', (e) => {
      const page = pageAt(e);
      if (page >= 0) host.click(this, page);
    });
  }

  /** Reads every page's state from the engine. */
  sample(owners: Set<number>): void {
    for (let page = 0; page < this.pages; page++) {
      const info = this.read(page);
      const state = classify(info, owners);
      const before = this.infos[page];
      if (state !== this.states[page] || before?.frame !== info.frame || before.mapping !== info.mapping) this.#dirty = true;
      this.infos[page] = info;
      this.states[page] = state;
    }
  }

  /** Counts of each state, for the guest's summary line. */
  tally(): Record<CellState, number> {
    const counts = Object.fromEntries(STATE_LIST.map((s) => [s, 0])) as Record<CellState, number>;
    for (const state of this.states) counts[state]++;
    return counts;
  }

  /** Paints the cells; pages mapping `frame` (the hovered page's) get an outline. */
  draw(frame = -1, hovered = -1): void {
    if (!this.#dirty && frame === this.#drawnFrame && hovered === this.#drawnHovered) return;
    this.#dirty = false;
    this.#drawnFrame = frame;
    this.#drawnHovered = hovered;
    const ctx = this.#ctx;
    ctx.clearRect(0, 0, COLUMNS * CELL, this.#rows * CELL);
    const size = CELL - GAP;
    for (let page = 0; page < this.pages; page++) {
      const x = (page % COLUMNS) * CELL;
      const y = Math.floor(page / COLUMNS) * CELL;
      const state = this.states[page] ?? 'unseen';
      ctx.fillStyle = STATES[state].color;
      ctx.fillRect(x, y, size, size);
      if (state === 'absent') {
        ctx.strokeStyle = '#cbd5e1';
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
      }
      const info = this.infos[page];
      if (info?.mapping === 'cow') { // an ordinary frame still shared with a fork parent or child
        ctx.fillStyle = '#ffffff';
        ctx.beginPath();
        ctx.moveTo(x, y);
        ctx.lineTo(x + 4, y);
        ctx.lineTo(x, y + 4);
        ctx.fill();
      }
      if ((frame >= 0 && info?.frame === frame) || page === hovered) {
        ctx.strokeStyle = '#0f172a';
        ctx.lineWidth = 2;
        ctx.strokeRect(x, y, size, size);
      }
    }
  }
}
