/**
 * The runs behind the estimate's verdict (verdict.ts words it): ksmtuned's own simulation, and,
 * without --domain, the inputs again with a domain each. The estimate itself and those runs go
 * through estimateRun: one engine, or content shards on worker threads.
 */
import { runShardedEstimate } from '../shards/coordinator.js';
import type { EngineName } from '../backend.js';
import type { DomainComparison } from './domains.js';
import type { EstimateOptions } from './options.js';
import { checkHostMemory, runPolicyEstimate, type PolicyRun } from './policy.js';
import { beyondOneEngine, CapExceeded, overCap, runEstimate, type EstimateRun, type EstimateSettings } from './run.js';
import { PAGE_SIZE, inputPages, type ImageSource } from './source.js';
import { summarize } from './summary.js';
import { DEFAULT_HOST_HEADROOM, formatVerdict } from './verdict.js';

/** The estimate's options, with the engine --mode resolved to. */
export type VerdictOptions = EstimateOptions & { engine: EngineName };

/** The verdict: ksmtuned's own simulation, and (without --domain) a run with a domain per input. */
export async function verdictLines(sources: ImageSource[], options: VerdictOptions, maxMemory: number, run: EstimateRun, compared: DomainComparison | undefined, domainOf: ((i: number) => string | undefined) | undefined, shards: number): Promise<string[]> {
  const pages = inputPages(sources);
  const savedBytes = summarize(run).savedBytes;
  const hostMemory = options.hostMemory ?? Math.ceil((pages * PAGE_SIZE * (1 + DEFAULT_HOST_HEADROOM)) / 1024) * 1024;
  checkHostMemory(pages, hostMemory);
  const ksmtuned = await ksmtunedRun(sources, options, hostMemory, maxMemory, domainOf, shards);
  let domains = compared;
  if (!domains && sources.length > 1) {
    const perSpace = summarize(await estimateRun(sources, { ...options, profile: run.profile, maxMemory, domainOf: (i) => `input${i}` }, shards)).savedBytes;
    domains = { oneDomainBytes: savedBytes, perTenantBytes: savedBytes, perSpaceBytes: perSpace, tenants: 1, spaces: sources.length };
  }
  return formatVerdict({
    run, savedBytes, cap: options.cpuCap, ksmtuned: 'run' in ksmtuned ? ksmtuned.run : undefined, ksmtunedSkipped: 'skipped' in ksmtuned ? ksmtuned.skipped : undefined,
    hostGiven: options.hostMemory !== undefined, domains, domainsFromMapping: compared !== undefined,
  });
}

/**
 * ksmtuned's simulation for the verdict. It follows the host's free memory as ksmd runs, so it
 * runs as one engine, even where the estimate ran in content shards. Inputs that one engine cannot
 * hold (more than it can ever have, or, with shards, more than the cap that is each shard's) leave
 * it out, with the reason, rather than fail an estimate that is done: refused by the memory rule
 * before a page is read, or, closer than the rule, when the engine runs out of its cap.
 */
export async function ksmtunedRun(sources: readonly ImageSource[], options: Pick<VerdictOptions, 'engine' | 'knobs' | 'stableScans'>, hostMemory: number, maxMemory: number, domainOf: ((i: number) => string | undefined) | undefined, shards: number): Promise<{ run: PolicyRun } | { skipped: string }> {
  const pages = inputPages(sources);
  const beyond = beyondOneEngine(pages, options.engine);
  if (beyond) return { skipped: beyond };
  const over = overCap(pages, maxMemory, options.engine);
  if (over) return { skipped: `${over}${capOfEachShard(shards)}` };
  try {
    return { run: await runPolicyEstimate(sources, { policy: 'ksmtuned', knobs: options.knobs, hostMemory, maxMemory, stableScans: options.stableScans, domainOf, engine: options.engine }) };
  } catch (error) {
    if (!(error instanceof CapExceeded) || shards === 1) throw error;
    return { skipped: `${error.message}${capOfEachShard(shards)}` };
  }
}

/** Where the cap came from, when the estimate ran in shards. */
function capOfEachShard(shards: number): string {
  return shards > 1 ? `; the estimate ran in ${shards} content shards, and the cap is each one's` : '';
}

/** One engine, or content shards on worker threads (src/shards/). */
export function estimateRun(sources: ImageSource[], settings: EstimateSettings, shards: number): Promise<EstimateRun> {
  return shards > 1 ? runShardedEstimate(sources, { ...settings, shards }) : runEstimate(sources, settings);
}
