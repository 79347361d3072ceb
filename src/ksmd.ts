/**
 * The background ksmd: a batch, then a sleep of sleep_millisecs, again, on timers, so the event
 * loop never blocks for longer than one batch. A write of run=1 or of a new sleep_millisecs wakes
 * it early, as the kernel's ksmd is woken. While run is 0 or 2 it stays started but idle, and it
 * scans again once run is 1.
 */

export interface StartOptions {
  /** Stops ksmd when aborted. */
  signal?: AbortSignal;
  /**
   * Called when a background batch fails (ksmd then stops), e.g. ENOMEM under the memory cap.
   * Without it the error is thrown from the timer, as an uncaught exception.
   */
  onError?: (error: unknown) => void;
}

/** What ksmd needs from its host. */
export interface KsmdHost {
  readonly knobs: { readonly run: number; readonly sleepMillisecs: number };
  scan(): unknown;
}

/** The longest delay a timer takes (Node and browsers clamp longer ones to 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Ksmd {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #signal: AbortSignal | undefined;
  #onError: ((error: unknown) => void) | undefined;
  readonly #onAbort = () => this.stop();

  constructor(private readonly host: KsmdHost) {}

  get running(): boolean { return this.#running; }

  start({ signal, onError }: StartOptions = {}): void {
    if (signal?.aborted) return;
    this.stop();
    this.#running = true;
    this.#onError = onError;
    if (signal) {
      this.#signal = signal;
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#sleep(0);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#signal = undefined;
  }

  /** Ends the current sleep now (run=1 written, or sleep_millisecs changed). */
  wake(): void {
    if (this.#running) this.#sleep(0);
  }

  /** Sleeps `ms`, in timer-sized pieces, then runs the next batch. */
  #sleep(ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const piece = Math.min(ms, MAX_TIMER_MS);
    this.#timer = setTimeout(() => (ms > piece ? this.#sleep(ms - piece) : this.#tick()), piece);
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running || this.host.knobs.run !== 1) return; // idle until woken by run=1
    try {
      this.host.scan();
    } catch (error) {
      const report = this.#onError;
      this.stop();
      if (!report) throw error;
      report(error);
      return;
    }
    if (this.#running) this.#sleep(this.host.knobs.sleepMillisecs);
  }
}
