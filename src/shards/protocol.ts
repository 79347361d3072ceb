/**
 * The messages between the coordinator and a shard's worker thread. Requests are answered in
 * order; page and record batches and hash jobs are not answered (a failure to load them is
 * reported at `start`; a hash job's end shows in its ring slot). `run` is answered by a `scanned`
 * for each full scan as it ends, then `ran`.
 */
import type { CliErrorKind } from '../cli/errors.js';
import type { CompiledCores } from '../core.js';
import type { ShardScan, ShardSpec } from './engine.js';
import type { PageBatch } from './partition.js';
import type { RecordBatch } from './deal-records.js';
import type { HashJob } from './hash-ring.js';
import type { StopFlag } from './stop-flag.js';

export type ToShard =
  | { type: 'init'; spec: ShardSpec; cores: CompiledCores }
  | { type: 'cores'; cores: CompiledCores }
  | ({ type: 'pages' } & PageBatch)
  | ({ type: 'records' } & RecordBatch)
  | ({ type: 'hash' } & HashJob)
  | { type: 'start' }
  | { type: 'run'; maxScans: number; stop: StopFlag }
  | { type: 'close' };

export type FromShard =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'scanned'; scan: ShardScan }
  | { type: 'ran' }
  | { type: 'closed' }
  | { type: 'failed'; kind: CliErrorKind | undefined; message: string };
