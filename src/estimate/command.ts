/**
 * `ksm-wasm estimate`: registered on the CLI by src/cli/main.ts. Opens every input first (so a bad
 * one is refused before any work), runs the estimate, then prints the table or the JSON and writes
 * the report. Nothing is written unless the whole run succeeded. A run that did not settle within
 * --max-scans is still done (exit 0): it says so on stderr, and the JSON's settled_at_full_scan is null.
 */
import { writeFileSync } from 'node:fs';
import { CliError, EXIT, EXIT_STATUS_HELP } from '../cli/errors.js';
import { openInputs } from '../cli/inputs.js';
import type { CliIO, Command } from '../cli/main.js';
import { estimateJson } from './json.js';
import { estimateOptions, VALUE_FLAGS } from './options.js';
import { announceRead, progressReporter, withReadProgress } from './progress.js';
import { htmlReport } from './report.js';
import { loadProfile } from './profile.js';
import { checkCap, checkSpaceSizes, memoryCap } from './run.js';
import { estimateRun, verdictLines, type VerdictOptions } from './verdict-runs.js';
import { formatTable } from './table.js';
import { bytes } from '../cli/format.js';
import { engineFits } from '../cli/memory.js';
import { checkMachineMemory } from '../cli/machine-memory.js';
import { domainMappings, formatDomainComparison, resolveDomains, tenantCount, type DomainComparison } from './domains.js';
import { checkHostMemory, runPolicyEstimate } from './policy.js';
import { oneShardReason, shardCount } from '../shards/choose.js';
import { estimateFromFingerprints } from '../shards/from-command.js';
import { formatPolicy, policyJson } from './policy-table.js';
import { summarize } from './summary.js';
import { hugeSpanCount, inputPages, type ImageSource } from './source.js';
import { engineOf, hugePagesNote, resolveMode } from './mode.js';

export const estimateCommand: Command = {
  name: 'estimate',
  stringFlags: VALUE_FLAGS, // knob values stay text, and are checked as the kernel would
  register(prog, { io, argv }) {
    prog
      .command('estimate')
      .describe([
        'Estimate what KSM would merge: ksm-wasm estimate [IMAGE…] [--scenario NAME] [--pid PID…].',
        'Each IMAGE (a raw file of 4096-byte pages, or an ELF core file) is one address space, scanned in the order given, with the kernel\'s counters after each full scan.',
        EXIT_STATUS_HELP,
      ])
      .option('--scenario', 'Built-in workload: clones or mixed (repeatable)')
      .option('--size', 'Scale each --scenario to this many bytes, generated as read (e.g. 64G; deterministic, nothing on disk)')
      .option('--pid', 'Live process to read through /proc (repeatable, or comma-separated): the pages ksmd would visit in it')
      .option('--all', 'Every process of this host with an address space, in ascending PID order', false)
      .option('--cgroup', 'Every process of this cgroup v2 directory and its children (a path, or relative to the cgroup v2 mount)')
      .option('--merge-any', 'Live processes: every KSM-compatible mapping, as if each opted in now (prctl PR_SET_MEMORY_MERGE); default: only mappings marked mergeable', false)
      .option('--freeze', 'Live processes: stop each one (SIGSTOP) from its page-map walk to the end of its read, then resume it', false)
      .option('--pages-to-scan', 'Pages per ksmd batch (default 100)')
      .option('--sleep-millisecs', 'Sleep between batches, ms (default 20)')
      .option('--max-page-sharing', 'Most mappings per KSM page (>= 2) (default 256)')
      .option('--use-zero-pages', 'Merge zero pages into the zero page (0|1) (default 0)')
      .option('--smart-scan', 'Skip pages that keep failing to merge (0|1) (default 1)')
      .option('--merge-across-nodes', 'Merge across NUMA nodes (0|1; one node is modelled) (default 1)')
      .option('--stable-node-chains-prune-millisecs', 'Minimum ms between prunes of one chain (default 2000)')
      .option('--advisor', 'none or scan-time (the advisor sets pages_to_scan) (default none)')
      .option('--max-scans', 'Stop after this many full scans (default 50)')
      .option('--stable-scans', 'Stop once the merge state is unchanged for this many full scans (default 3)')
      .option('--max-memory', 'Engine memory cap, MiB (at most 4096; with --threads, each shard\'s) (default: what the inputs need)')
      .option('--threads', 'Content shards, each on a worker thread; the counters do not depend on it (default: the machine\'s cores, at least 1 GiB of pages each; 1 with --advisor scan-time or --policy)')
      .option('--domain', 'Sharing domain NAME=INPUT[,INPUT…] (repeatable; INPUT may end in *): also compare one domain and a domain per input')
      .option('--domain-map', 'File of NAME=INPUT[,INPUT…] lines, as --domain')
      .option('--policy', 'Let a policy run ksmd over simulated time: ksmtuned (needs --host-memory)')
      .option('--host-memory', 'The host\'s memory for --policy and the verdict\'s ksmtuned line, e.g. 16G (no unit: MiB)')
      .option('--cpu-cap', 'The verdict\'s cap on ksmd\'s CPU, % of one core (default 10)')
      .option('--verdict', 'End with the verdict (--no-verdict: leave it out)', true)
      .option('--profile', 'Clock profile from ksm-wasm calibrate, for simulated_ms and ksmd_cpu_ms (default: the one shipped, measured on the reference host)')
      .option('--mode', 'pages (the page engine, every page whole), fingerprints (a 128-bit fingerprint per page: any size) or auto (default)')
      .option('--from', 'Fingerprint files (ksm-wasm fingerprint) as the inputs; with it, every input given is one')
      .option('--shard', 'With --from: run only shard I of K (I from 0 to K-1), exactly --max-scans full scans, and print its result for ksm-wasm merge (needs --json)')
      .option('--json', 'Print the estimate as JSON on stdout (its keys: docs/estimate-json.md)', false)
      .option('--report', 'Also write a self-contained HTML report to this file')
      .example('estimate guest0.img guest1.img --pages-to-scan 5000')
      .example('estimate --scenario clones --report clones.html')
      .example('estimate --scenario clones --domain acme=clones/guest0,clones/guest1 --domain globex=clones/guest2')
      .example('estimate --scenario clones --policy ksmtuned --host-memory 80M')
      .example('estimate --from host1.kfp host2.kfp --shard 0/4 --json > shard-0.json')
      .action(async (opts: Record<string, unknown> & { _: unknown[] }) => estimate(opts, argv, io));
  },
};

async function estimate(opts: Record<string, unknown> & { _: unknown[] }, argv: readonly string[], io: CliIO): Promise<number> {
  const options = estimateOptions(opts, argv);
  if (options.from.length) return estimateFromFingerprints(options, io);
  const profile = loadProfile(options.profile);
  const sources = openInputs(options.inputs, options.live);
  const pages = inputPages(sources);
  const hugeSpans = hugeSpanCount(sources);
  const mode = resolveMode(options.mode, pages, options.maxMemory, hugeSpans > 0);
  const engine = engineOf(mode);
  checkMachineMemory(pages, engine);
  const shards = shardCount(options.threads, options.knobs, options.policy, sources, engine);
  const maxMemory = options.maxMemory ?? memoryCap(sources, engine); // with shards: each shard's cap
  // Inputs one engine could hold are held to the cap as one engine's; beyond that, each shard is.
  if (shards === 1 || engineFits(pages)) checkCap(sources, maxMemory, engine, oneShardReason(options.knobs, options.policy, sources));
  else checkSpaceSizes(sources);
  const mappings = domainMappings(options.domainFlags, options.domainMap);
  const domains = resolveDomains(mappings, sources);
  const domainOf = mappings.length > 0 ? (i: number) => domains[i] : undefined;
  const note = mode === 'fingerprints' ? hugePagesNote(hugeSpans, 'the fingerprint engine') : undefined;
  if (note) io.err(`ksm-wasm estimate: ${note}\n`);
  if (options.policy) return policyEstimate(sources, { ...options, engine }, maxMemory, domainOf, io);
  // The verdict's host must hold the guests: refused now, not after the estimate's work.
  if (options.verdict && !options.json && options.hostMemory !== undefined) checkHostMemory(pages, options.hostMemory);
  announceRead(pages, io.err);
  const run = await estimateRun(withReadProgress(sources, io.err), { ...options, engine, profile, maxMemory, onScan: progressReporter(io.err), domainOf }, shards);
  const report = options.report ? htmlReport(run) : undefined;
  const compared = domainOf ? await compareDomains(sources, { ...options, engine }, maxMemory, summarize(run).savedBytes, domains, shards) : undefined;
  // Every run (the verdict's too) before any output: a failure among them writes nothing.
  const closing = options.verdict && !options.json ? `\n${(await verdictLines(sources, { ...options, engine }, maxMemory, run, compared, domainOf, shards)).join('\n')}\n` : '';
  if (options.report && report) writeReport(options.report, report);
  if (options.json) io.out(`${JSON.stringify(compared ? { ...estimateJson(run), domains: domainsJson(compared) } : estimateJson(run), null, 1)}\n`);
  else io.out(`${compared ? `${formatTable(run)}\n${formatDomainComparison(compared, bytes).join('\n')}\n` : formatTable(run)}${closing}`);
  if (!run.converged) io.err(`ksm-wasm estimate: the merge state did not settle within --max-scans ${options.maxScans} (last change after full scan ${run.settledAt})\n`);
  return EXIT.done;
}

/** --policy: the policy over simulated time instead of fixed knobs. */
async function policyEstimate(sources: ImageSource[], options: VerdictOptions, maxMemory: number, domainOf: ((i: number) => string | undefined) | undefined, io: CliIO): Promise<number> {
  const pages = inputPages(sources);
  const hostMemory = options.hostMemory as number; // options.ts: --policy comes with --host-memory
  checkHostMemory(pages, hostMemory);
  if (options.report) throw new CliError('usage', '--report is not available with --policy yet');
  announceRead(pages, io.err);
  const run = await runPolicyEstimate(sources, { policy: options.policy!, knobs: options.knobs, hostMemory, maxMemory, stableScans: options.stableScans, domainOf, engine: options.engine });
  io.out(options.json ? `${JSON.stringify(policyJson(run), null, 1)}\n` : formatPolicy(run, sources.length));
  if (!run.settled) io.err(`ksm-wasm estimate: the policy's state was still changing after ${run.intervals.length} intervals\n`);
  return EXIT.done;
}

/** With --domain: the same inputs in one domain and with a domain each, for the summary row. */
async function compareDomains(sources: ImageSource[], options: VerdictOptions, maxMemory: number, perTenantBytes: number, domains: Array<string | undefined>, shards: number): Promise<DomainComparison> {
  const profile = loadProfile(options.profile);
  const saved = async (domainOf?: (i: number) => string) => summarize(await estimateRun(sources, { ...options, profile, maxMemory, domainOf }, shards)).savedBytes;
  return {
    oneDomainBytes: await saved(),
    perTenantBytes,
    perSpaceBytes: await saved((i) => `input${i}`),
    tenants: tenantCount(domains),
    spaces: sources.length,
  };
}

function domainsJson(c: DomainComparison): Record<string, number> {
  return { one_domain_saved_bytes: c.oneDomainBytes, per_tenant_saved_bytes: c.perTenantBytes, per_space_saved_bytes: c.perSpaceBytes, tenants: c.tenants, spaces: c.spaces };
}

function writeReport(path: string, html: string): void {
  try {
    writeFileSync(path, html);
  } catch (error) {
    throw new CliError('input', `--report ${path}: ${(error as Error).message}`);
  }
}
