/**
 * Where a shard's engine runs: in this thread (tests, one shard) or on a worker thread
 * (worker-host.ts). The coordinator sees only this interface.
 */
import { ShardEngine, type ShardScan, type ShardSpec } from './engine.js';
import type { PageBatch } from './partition.js';
import { releaseChunk } from './chunk-pool.js';
import type { RecordBatch } from './deal-records.js';
import type { HashJobRunner } from './hash-ring.js';
import type { StopFlag } from './stop-flag.js';

export interface ShardHost {
  /** Pages for the shard's engine (the batch's index arrays may be handed over; its chunk is released once read). */
  write(batch: PageBatch): void;
  /** Fingerprint records for the shard's engine (the fingerprint engine; the batch's arrays may be handed over). */
  writeRecords(batch: RecordBatch): void;
  /** Fingerprints chunks on the shard's thread while the inputs are read; absent: they are hashed in the reader's thread. */
  readonly hash?: HashJobRunner;
  /** All pages given: spaces mergeable, ksmd running. Rejects with what went wrong loading. */
  start(): Promise<void>;
  /**
   * Full scans one after another, each one's counters to `onScan` as it ends, until `maxScans` of
   * them or until `stop` is raised (read between batches; a scan it cuts short is not reported).
   * A shard does not wait for the others between scans: its scans depend only on its own pages and
   * its own clock (engine.ts), so running ahead computes what running in step would.
   */
  runScans(maxScans: number, stop: StopFlag, onScan: (scan: ShardScan) => void): Promise<void>;
  close(): Promise<void>;
}

export type ShardHostFactory = (spec: ShardSpec) => Promise<ShardHost>;

/** A shard in this thread. */
export const inProcessShard: ShardHostFactory = async (spec) => {
  const engine = await ShardEngine.create(spec);
  engine.createSpaces();
  let failure: unknown;
  return {
    write(batch) {
      try {
        if (failure === undefined) engine.write(batch.space, batch.pages, batch.slots, batch.data);
      } catch (error) {
        failure = error;
      } finally {
        releaseChunk(batch);
      }
    },
    writeRecords(batch) {
      try {
        if (failure === undefined) engine.writeRecords(batch.space, batch.pages, batch.records);
      } catch (error) {
        failure = error;
      }
    },
    async start() {
      if (failure !== undefined) throw failure;
      engine.start();
    },
    async runScans(maxScans, stop, onScan) {
      for (const scan of engine.scans(maxScans, stop)) {
        onScan(scan);
        // The other shards of this thread take their turn, so the summed scans keep up.
        await new Promise(setImmediate);
      }
    },
    async close() { engine.close(); },
  };
};
