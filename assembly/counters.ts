// The global counters: i64 cells in memory, so the driver reads them through a view, no call.
import { COUNTERS_LOCATION } from './layout';

@inline export function counter(index: u32): i64 {
  return load<i64>(COUNTERS_LOCATION + (index << 3));
}

@inline export function addCounter(index: u32, delta: i64): void {
  const at = COUNTERS_LOCATION + (index << 3);
  store<i64>(at, load<i64>(at) + delta);
}

@inline export function setCounter(index: u32, value: i64): void {
  store<i64>(COUNTERS_LOCATION + (index << 3), value);
}
