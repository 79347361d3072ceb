/**
 * A small inline SVG line chart (no script, no external asset), for the HTML report.
 */

export interface Series { name: string; color: string; points: Array<[number, number]> }

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  formatX?: (x: number) => string;
  formatY?: (y: number) => string;
}

const W = 720;
const H = 320;
const PAD = { left: 78, right: 16, top: 34, bottom: 46 };

export function lineChart(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  const [x0, x1] = range(all.map((p) => p[0]));
  const [y0, y1] = range([0, ...all.map((p) => p[1])]);
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const fx = spec.formatX ?? String;
  const fy = spec.formatY ?? String;
  const ticks = (lo: number, hi: number) => Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  const grid = ticks(y0, y1).map((y) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>` +
    `<text x="${PAD.left - 6}" y="${sy(y) + 4}" text-anchor="end">${esc(fy(y))}</text>`).join('');
  const xticks = ticks(x0, x1).map((x) => `<text x="${sx(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${esc(fx(x))}</text>`).join('');
  const lines = spec.series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>` +
    s.points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"><title>${esc(`${s.name}: ${fy(y)} at ${fx(x)}`)}</title></circle>`).join('')).join('');
  const legend = spec.series.map((s, i) => `<rect x="${PAD.left + 8 + i * 130}" y="10" width="12" height="12" fill="${s.color}"/>` +
    `<text x="${PAD.left + 24 + i * 130}" y="20">${esc(s.name)}</text>`).join('');
  return `<figure><figcaption>${esc(spec.title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">` +
    `${grid}${xticks}${lines}${legend}` +
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(spec.xLabel)}</text>` +
    `<text transform="translate(14 ${(PAD.top + H - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text></svg></figure>`;
}

function range(values: number[]): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
