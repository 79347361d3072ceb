/**
 * A shard's worker thread: one ShardEngine, driven by the coordinator's messages (protocol.ts),
 * handled one after the other. A failure while loading pages is kept and reported at `start`.
 */
import { parentPort } from 'node:worker_threads';
import { CliError } from '../cli/errors.js';
import { adoptCompiledCores } from '../core.js';
import { ShardEngine } from './engine.js';
import type { FromShard, ToShard } from './protocol.js';
import { releaseChunk } from './chunk-pool.js';
import { runHashJob } from './hash-ring.js';
import { collectGarbage } from './collect-garbage.js';

const port = parentPort!;
let engine: ShardEngine | undefined;
let loadFailure: unknown;
let queue: Promise<void> = Promise.resolve();

const reply = (message: FromShard): void => port.postMessage(message);

function failed(error: unknown): FromShard {
  if (error instanceof CliError) return { type: 'failed', kind: error.kind, message: error.message };
  return { type: 'failed', kind: undefined, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

async function handle(message: ToShard): Promise<void> {
  switch (message.type) {
    case 'cores':
      adoptCompiledCores(message.cores);
      return;
    case 'init':
      adoptCompiledCores(message.cores);
      engine = await ShardEngine.create(message.spec);
      engine.createSpaces();
      return reply({ type: 'ready' });
    case 'pages':
      try {
        if (loadFailure === undefined) engine!.write(message.space, message.pages, message.slots, message.data);
      } finally {
        releaseChunk(message);
      }
      return;
    case 'records':
      if (loadFailure === undefined) engine!.writeRecords(message.space, message.pages, message.records);
      return;
    case 'hash':
      runHashJob(message);
      return;
    case 'start':
      if (loadFailure !== undefined) throw loadFailure;
      engine!.start();
      await collectGarbage();
      return reply({ type: 'started' });
    case 'run':
      for (const scan of engine!.scans(message.maxScans, message.stop)) reply({ type: 'scanned', scan });
      return reply({ type: 'ran' });
    case 'close':
      engine?.close();
      reply({ type: 'closed' });
      port.close();
  }
}

port.on('message', (message: ToShard) => {
  queue = queue.then(() => handle(message)).catch((error: unknown) => {
    if (message.type === 'pages' || message.type === 'records' || message.type === 'hash') loadFailure ??= error;
    else reply(failed(error));
  });
});
