/**
 * A flag in shared memory that tells every shard, on whatever thread, to stop scanning. Set once,
 * never cleared; a shard reads it between two batches.
 */
export type StopFlag = Int32Array;

export const newStopFlag = (): StopFlag => new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
export const stopped = (flag: StopFlag): boolean => Atomics.load(flag, 0) !== 0;
export const raiseStop = (flag: StopFlag): void => { Atomics.store(flag, 0, 1); };
