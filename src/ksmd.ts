/**
 * The background ksmd: a batch, then a sleep of sleep_millisecs, again, on timers, so the event
 * loop never blocks for longer than one batch. A write of run=1 or of sleep_millisecs wakes it
 * early, as the kernel's ksmd is woken.
 */

export interface StartOptions {
  /** Stops ksmd when aborted. */
  signal?: AbortSignal;
}

/** What ksmd needs from its host. */
export interface KsmdHost {
  readonly knobs: { readonly run: number; readonly sleepMillisecs: number };
  scan(): unknown;
}

export class Ksmd {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #onAbort: (() => void) | undefined;
  #signal: AbortSignal | undefined;

  constructor(private readonly host: KsmdHost) {}

  get running(): boolean { return this.#running; }

  start({ signal }: StartOptions = {}): void {
    if (signal?.aborted) return;
    this.stop();
    this.#running = true;
    if (signal) {
      this.#signal = signal;
      this.#onAbort = () => this.stop();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#schedule(0);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#signal = undefined;
    this.#onAbort = undefined;
  }

  /** Ends the current sleep now (run=1 written, or sleep_millisecs changed). */
  wake(): void {
    if (this.#running) this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), delayMs);
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    // A stopped ksmd (run 0 or 2) sleeps until woken by run=1, as the kernel's does.
    if (this.host.knobs.run !== 1) return;
    try {
      this.host.scan();
    } catch (error) {
      this.stop();
      throw error;
    }
    if (this.#running) this.#schedule(this.host.knobs.sleepMillisecs);
  }
}
