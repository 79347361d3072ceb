/**
 * The guests: address spaces booted from one base image, each with private pages and zero pages,
 * and a write activity that dirties pages (copy-on-write breaks of KSM pages, volatile pages).
 * No DOM here: the page (main.ts) drives it.
 */
import { PAGE_SIZE, type AddressSpace, type Ksm } from '../src/index.js';
import { prng } from '../src/prng.js'; // seeded, so every visit shows the same images

/** Pages per guest: small, so the page maps stay readable and the demo snappy. */
export const GUEST_PAGES = 512;
export const MAX_GUESTS = 12;

/** The regions of a guest's memory, as fractions of it, top of the page map first. */
export const REGIONS = [
  { name: 'kernel & libraries', end: 0.42 },
  { name: 'page cache', end: 0.64 },
  { name: 'heap', end: 0.8 },
  { name: 'free memory', end: 1 },
] as const;

export function regionOf(page: number): string {
  const at = page / GUEST_PAGES;
  return (REGIONS.find((r) => at < r.end) ?? REGIONS[REGIONS.length - 1]).name;
}

const regionStart = (i: number) => Math.round((i === 0 ? 0 : REGIONS[i - 1].end) * GUEST_PAGES);
const regionEnd = (i: number) => Math.round(REGIONS[i].end * GUEST_PAGES);

/** How a guest's page starts out, per region: [share from the base image, private, zero]. */
const MIX: ReadonlyArray<readonly [base: number, priv: number, zero: number]> = [
  [0.97, 0.03, 0],
  [0.85, 0.1, 0.05],
  [0, 0.8, 0.2],
  [0, 0.12, 0.88],
];

/** Fills a page with noise: xorshift32 seeded from `random`, all integer (this runs for every boot). */
function fillRandom(page: Uint8Array, random: () => number): void {
  const words = new Uint32Array(page.buffer, page.byteOffset, page.length >>> 2);
  let x = ((random() * 4294967296) >>> 0) | 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
}

/**
 * The base image every guest boots from: the kernel and libraries and a warm page cache (random,
 * distinct pages, but the same in every guest), a few pages filled with one byte pattern (they
 * merge even inside one guest), and zeros for the rest.
 */
export function baseImage(): Uint8Array {
  const image = new Uint8Array(GUEST_PAGES * PAGE_SIZE);
  const random = prng(0x6b736d);
  for (let page = 0; page < regionEnd(1); page++) {
    const bytes = image.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    if (page % 61 === 7) bytes.fill(0xcc); // padding pages: identical within the image
    else fillRandom(bytes, random);
  }
  return image;
}

let guestSerial = 0;

export class Guest {
  /** Write-activity, writes per second (the slider). */
  writesPerSecond = 0;
  /** Pages of the page cache this guest keeps rewriting (its working set). */
  readonly hotPages: number[];
  readonly #dirty = new Set<number>();
  readonly #random: () => number;
  #owed = 0;

  constructor(readonly space: AddressSpace, private readonly base: Uint8Array, readonly serial: number, readonly parent?: string) {
    this.#random = prng(0x9e3779b9 ^ serial);
    const first = regionStart(1);
    const count = regionEnd(1) - first;
    this.hotPages = Array.from({ length: 24 }, () => first + Math.floor(this.#random() * count));
  }

  get name(): string { return this.space.name; }

  /** The next guest's serial number (sharing domains are drawn from it). */
  static get nextSerial(): number { return guestSerial + 1; }

  /** Boots a guest from the base image (in sharing domain `domain`): it writes its own private pages and zeroes others. */
  static boot(ksm: Ksm, base: Uint8Array, mergeable = true, domain?: string): Guest {
    const serial = ++guestSerial;
    const random = prng(serial * 7919);
    const image = base.slice();
    for (let region = 0; region < REGIONS.length; region++) {
      const [shared, priv] = MIX[region];
      for (let page = regionStart(region); page < regionEnd(region); page++) {
        const roll = random();
        if (roll < shared) continue;
        if (roll < shared + priv) fillRandom(image.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE), random);
        else image.fill(0, page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
      }
    }
    const space = ksm.createSpace({ name: `guest-${serial}`, image, mergeable, domain });
    return new Guest(space, base, serial);
  }

  /** fork(): a child that shares every frame copy-on-write (and every KSM page) with its parent. */
  fork(): Guest {
    const serial = ++guestSerial;
    const child = new Guest(this.space.fork(`guest-${serial}`), this.base, serial, this.name);
    child.writesPerSecond = 0;
    return child;
  }

  /** Runs the writes owed for `elapsedMs` at the current rate; returns how many it made. */
  tick(elapsedMs: number): number {
    if (this.space.closed || this.writesPerSecond <= 0) {
      this.#owed = 0;
      return 0;
    }
    this.#owed += (this.writesPerSecond * Math.min(elapsedMs, 1000)) / 1000;
    let writes = 0;
    for (; this.#owed >= 1; this.#owed--, writes++) this.writeOnce();
    return writes;
  }

  /**
   * One write to the working set: usually a few random bytes into a page (a KSM page gets a
   * private copy: copy-on-write), sometimes a dirty page read back from disk (its base contents
   * again, so ksmd can merge it again later).
   */
  writeOnce(): void {
    const page = this.hotPages[Math.floor(this.#random() * this.hotPages.length)];
    if (this.#dirty.has(page) && this.#random() < 0.4) {
      this.space.write(page, this.base.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
      this.#dirty.delete(page);
    } else {
      this.scribble(page);
    }
  }

  /** Writes 16 random bytes at a random offset of `page` (a click on the page map does this). */
  scribble(page: number): void {
    const stamp = new Uint8Array(16);
    for (let i = 0; i < stamp.length; i++) stamp[i] = (this.#random() * 256) | 0;
    this.space.write(page, stamp, Math.floor(this.#random() * (PAGE_SIZE / 16)) * 16);
    this.#dirty.add(page);
  }

  shutDown(): void { this.space.close(); }
}
