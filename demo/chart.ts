/**
 * The chart over time: guest pages against frames in use, memory saved, and general_profit, all
 * in MiB, over the last two minutes. One canvas, redrawn whole at every sample.
 */

export interface Series {
  key: string;
  label: string;
  color: string;
  dashed?: boolean;
}

export const SERIES: Series[] = [
  { key: 'guest', label: 'guest pages (what the guests map)', color: '#64748b', dashed: true },
  { key: 'frames', label: 'frames in use (what the host holds)', color: '#0f172a' },
  { key: 'saved', label: 'memory saved now', color: '#059669' },
  { key: 'profit', label: 'general_profit', color: '#d97706' },
];

/** The chart shows the last two minutes; until then, everything since the page loaded (at least 30 s). */
const WINDOW_MS = 120_000;
const MIN_WINDOW_MS = 30_000;
const MIB = 1 << 20;

interface Sample { t: number; values: Record<string, number> }

export class Chart {
  readonly #samples: Sample[] = [];
  readonly #ctx: CanvasRenderingContext2D;
  #width = 0;
  #height = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    this.#ctx = canvas.getContext('2d')!;
    this.#resize();
    new ResizeObserver(() => { this.#resize(); this.draw(); }).observe(canvas);
  }

  /** Adds one sample (values in bytes) taken at time `t` (ms). */
  push(t: number, bytes: Record<string, number>): void {
    this.#samples.push({ t, values: bytes });
    while (this.#samples.length > 2 && this.#samples[1].t < t - WINDOW_MS) this.#samples.shift();
    this.draw();
  }

  #resize(): void {
    const ratio = Math.max(1, globalThis.devicePixelRatio || 1);
    const box = this.canvas.getBoundingClientRect();
    this.#width = Math.max(200, box.width);
    this.#height = Math.max(120, box.height);
    this.canvas.width = Math.round(this.#width * ratio);
    this.canvas.height = Math.round(this.#height * ratio);
    this.#ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  draw(): void {
    const ctx = this.#ctx;
    const w = this.#width;
    const h = this.#height;
    const pad = { left: 44, right: 12, top: 10, bottom: 22 };
    ctx.clearRect(0, 0, w, h);
    const samples = this.#samples;
    const now = samples.length ? samples[samples.length - 1].t : 0;
    const span = Math.min(WINDOW_MS, Math.max(MIN_WINDOW_MS, now - (samples[0]?.t ?? now)));
    let top = 1;
    let bottom = 0;
    for (const s of samples) {
      for (const v of Object.values(s.values)) {
        top = Math.max(top, v / MIB);
        bottom = Math.min(bottom, v / MIB);
      }
    }
    const step = niceStep((top - bottom) / 4);
    top = Math.ceil(top / step) * step;
    bottom = bottom < 0 ? -Math.min(step, niceStep(-bottom)) : 0; // room for a negative general_profit
    const x = (t: number) => pad.left + ((t - (now - span)) / span) * (w - pad.left - pad.right);
    const y = (mib: number) => pad.top + ((top - mib) / (top - bottom)) * (h - pad.top - pad.bottom);

    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let v = 0; v <= top + step / 2; v += step) {
      ctx.strokeStyle = v === 0 ? '#94a3b8' : '#e2e8f0';
      ctx.beginPath();
      ctx.moveTo(pad.left, Math.round(y(v)) + 0.5);
      ctx.lineTo(w - pad.right, Math.round(y(v)) + 0.5);
      ctx.stroke();
      ctx.fillStyle = '#64748b';
      ctx.fillText(`${+v.toFixed(2)} MiB`, pad.left - 4, y(v));
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const tick = span > 60_000 ? 30_000 : 10_000;
    for (let ago = 0; ago <= span; ago += tick) {
      ctx.fillText(ago === 0 ? 'now' : `−${ago / 1000} s`, Math.max(pad.left + 14, Math.min(w - pad.right - 12, x(now - ago))), h - pad.bottom + 6);
    }
    for (const series of SERIES) {
      ctx.strokeStyle = series.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(series.dashed ? [5, 4] : []);
      ctx.beginPath();
      samples.forEach((s, i) => {
        const px = Math.max(pad.left, x(s.t));
        const py = y((s.values[series.key] ?? 0) / MIB);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}
