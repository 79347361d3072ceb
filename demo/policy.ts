/**
 * The policy control: who sets run, pages_to_scan and sleep_millisecs. By hand (the knobs), the
 * kernel's scan-time advisor (advisor_mode), or ksmtuned (the library's Ksmtuned), which reads the
 * host's memory from the slider, the guests' pages as committed memory, and the frames in use.
 * No DOM here: main.ts wires it to the page.
 */
import { Ksmtuned, PAGE_SIZE, type Ksm, type KsmtunedDecision } from '../src/index.js';

export type PolicyMode = 'manual' | 'ksmtuned' | 'advisor';

/** ksmtuned decides every 60 s; here every 2 s, so it can be watched. */
export const DEMO_INTERVAL_MS = 2000;
/**
 * The demo's hosts are a few MiB, so ksmtuned's sleep (KSM_SLEEP_MSEC × 16 GiB / MemTotal) would be
 * seconds; KSM_SLEEP_MSEC 0 gives its floor, 10 ms. Every other parameter is ksmtuned.conf's default.
 */
const DEMO_CONFIG = { KSM_SLEEP_MSEC: 0 };

export class PolicyControl {
  #mode: PolicyMode = 'manual';
  #hostBytes: number;
  #tuned: Ksmtuned | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The last decision, in words (for the page). */
  status = 'the knobs are set by hand';

  constructor(
    private readonly ksm: Ksm,
    hostBytes: number,
    /** Bytes the guests hold (their committed memory). */
    private readonly committedBytes: () => number,
    /** Called after the policy wrote knobs (or failed to). */
    private readonly changed: (error?: unknown) => void,
  ) {
    this.#hostBytes = hostBytes;
  }

  get mode(): PolicyMode { return this.#mode; }
  get hostBytes(): number { return this.#hostBytes; }

  setMode(mode: PolicyMode): void {
    if (this.#mode === 'advisor' && mode !== 'advisor') this.ksm.setKnob('advisor_mode', 'none');
    this.#mode = mode;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#tuned = undefined;
    if (mode === 'advisor') {
      this.ksm.setKnob('advisor_mode', 'scan-time');
      this.status = 'the kernel\'s advisor sets pages_to_scan after each full scan';
    } else if (mode === 'ksmtuned') {
      this.#restartKsmtuned();
      this.#timer = setInterval(() => this.decide(), DEMO_INTERVAL_MS);
      this.decide();
    } else {
      this.status = 'the knobs are set by hand';
    }
  }

  /** The host's memory changed: ksmtuned reads MemTotal once, so it starts again. */
  setHostBytes(bytes: number): void {
    this.#hostBytes = bytes;
    if (this.#mode === 'ksmtuned') { this.#restartKsmtuned(); this.decide(); }
  }

  #restartKsmtuned(): void {
    this.#tuned = new Ksmtuned(Math.floor(this.#hostBytes / 1024), DEMO_CONFIG);
  }

  /** One ksmtuned decision from the figures now, written to the knobs. */
  decide(): void {
    const tuned = this.#tuned;
    if (!tuned) return;
    try {
      const committedKb = Math.floor(this.committedBytes() / 1024);
      const freeKb = Math.max(0, Math.floor((this.#hostBytes - this.ksm.live().framesInUse * PAGE_SIZE) / 1024));
      const decision = tuned.adjust({ committedKb, freeKb });
      Ksmtuned.apply(this.ksm, decision);
      this.status = describe(decision, committedKb, freeKb, tuned.thresKb, tuned.totalKb);
      this.changed();
    } catch (error) {
      this.changed(error);
    }
  }
}

const mib = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;

function describe(d: KsmtunedDecision, committedKb: number, freeKb: number, thresKb: number, totalKb: number): string {
  const figures = `committed ${mib(committedKb)}, free ${mib(freeKb)}, thres ${mib(thresKb)}, MemTotal ${mib(totalKb)}`;
  if (d.run === 0) return `ksmtuned stopped ksmd: committed + thres < MemTotal and free > thres (${figures})`;
  return `ksmtuned ${d.reason === 'boost' ? 'boosted' : 'decayed'} pages_to_scan to ${d.pagesToScan}, sleep ${d.sleepMillisecs} ms: ` +
    `${d.reason === 'boost' ? 'free < thres' : 'free ≥ thres'} (${figures})`;
}
