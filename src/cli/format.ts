/**
 * Figures as a person reads them, the same in every command's table, message and report: bytes in
 * binary units, durations in the largest unit that keeps them readable.
 */

/** 1536 → "1.5 KiB", 17043456 → "16.3 MiB". */
export function bytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  for (const unit of ['B', 'KiB', 'MiB', 'GiB']) {
    if (v < 1024 || unit === 'GiB') return `${sign}${unit === 'B' ? v : v.toFixed(1)} ${unit}`;
    v /= 1024;
  }
  return `${n} B`;
}

/** Milliseconds as a person reads them. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
