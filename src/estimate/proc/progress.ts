/**
 * Reading progress on stderr: silent for the first second, then a line a second with the rate, and
 * a last line with the whole read's rate.
 */
export class ReadProgress {
  #bytes = 0;
  #start = 0;
  #lastLine = 0;
  #printed = false;

  constructor(private readonly totalPages: number, private readonly stream: NodeJS.WritableStream = process.stderr, private readonly quietMs = 1000) {}

  add(bytes: number, pid: number): void {
    const now = performance.now();
    if (this.#start === 0) this.#start = now - 1e-3;
    this.#bytes += bytes;
    if (now - this.#start < this.quietMs || now - this.#lastLine < 1000) return;
    this.#lastLine = now;
    this.#printed = true;
    const total = this.totalPages * 4096;
    this.stream.write(`ksm-wasm estimate: reading pages (pid ${pid}): ${mib(this.#bytes)} of ${mib(total)} MiB (${Math.round((100 * this.#bytes) / total)}%), ${this.rate().toFixed(0)} MiB/s\n`);
  }

  /** MiB/s so far. */
  rate(): number {
    const s = (performance.now() - this.#start) / 1000;
    return s > 0 ? this.#bytes / 2 ** 20 / s : 0;
  }

  done(): void {
    if (!this.#printed) return;
    this.stream.write(`ksm-wasm estimate: read ${mib(this.#bytes)} MiB of pages in ${((performance.now() - this.#start) / 1000).toFixed(1)} s (${this.rate().toFixed(0)} MiB/s)\n`);
  }
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
