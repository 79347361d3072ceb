/**
 * `ksm-wasm calibrate`: measures this host's ksmd (as root, with KSM idle) and writes a clock
 * profile for `estimate --profile`. The built-in clones and mixed scenarios run through the real
 * ksmd free-running at a small batch with the default sleep (the timer, the cost of a batch) and
 * at one batch per full scan (the costs per page), and through the engine at the same knobs; the
 * profile is what fits both (fit.ts). It drives ksmd through src/kernel (the conformance
 * harness's own modules): KSM must be idle, every knob is put back and run is left at 0.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { release, cpus } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { CliError, EXIT, EXIT_STATUS_HELP } from '../cli/errors.js';
import type { CliIO, Command } from '../cli/main.js';

const SCENARIOS = ['clones', 'mixed'];
const SCANS = 4;

export const calibrateCommand: Command = {
  name: 'calibrate',
  stringFlags: ['out', 'repeats'],
  register(prog, { io }) {
    prog
      .command('calibrate')
      .describe([
        'Measure this host\'s ksmd (root, KSM idle) and write a clock profile for estimate --profile: ksm-wasm calibrate [--out FILE].',
        'Runs the built-in clones and mixed scenarios through the real ksmd at two knob settings (about a minute per repeat); puts every knob back and leaves run=0.',
        EXIT_STATUS_HELP,
      ])
      .option('--out', 'Write the profile to this file (default: print it on stdout)')
      .option('--repeats', 'Runs per setting; each scan\'s median is kept (default 1)')
      .example('calibrate --out host-profile.json')
      .action(async (opts: Record<string, unknown>) => calibrate(opts, io));
  },
};

async function calibrate(opts: Record<string, unknown>, io: CliIO): Promise<number> {
  const out = outPath(opts.out);
  const repeats = repeatCount(opts.repeats);
  // Loaded only now: they touch the temp dir and /sys.
  const { kernelBusyOrUnavailable, KsmUnavailable } = await import('../kernel/free-run.js');
  const { unavailableReason } = await import('../kernel/sysfs.js');
  const cannot = unavailableReason() ?? notRoot();
  if (cannot) throw new CliError('input', `cannot drive this host's ksmd: ${cannot}`);
  const busy = kernelBusyOrUnavailable();
  if (busy) throw new CliError('input', `KSM is not idle, so ksmd cannot be measured now: ${busy}`);
  const { measureScenarios, CALIBRATE_SETTINGS: SETTINGS } = await import('./measure.js');
  const { fitProfile } = await import('./fit.js');
  let observations;
  try {
    observations = await measureScenarios(SCENARIOS, SETTINGS, repeats, SCANS, (line) => io.err(`${line}\n`));
  } catch (error) {
    if (error instanceof KsmUnavailable) throw new CliError('input', `KSM became busy while ksmd was measured: ${error.message}`);
    if (/cc could not build/.test((error as Error).message)) throw new CliError('input', `calibrate needs a C compiler (cc) for its guest processes: ${(error as Error).message}`);
    throw error;
  }
  const hz = configHz();
  const measured = {
    host: `${cpus()[0]?.model ?? 'unknown CPU'} x ${cpus().length}`, kernel: release(), date: new Date().toISOString(),
    command: `ksm-wasm calibrate${repeats === 1 ? '' : ` --repeats ${repeats}`}${out ? ' --out FILE' : ''}`,
    how: `${SCENARIOS.join(' and ')} scenarios, ${SETTINGS.map((s) => `${s.pages_to_scan} pages / ${s.sleep_millisecs} ms`).join(' and ')}, ${SCANS} full scans, ` +
      `${repeats} run(s) each (median), the scenarios taking turns; ksmd free-running; CPU from /proc/<ksmd>/schedstat; HZ from ${hz ? 'the kernel config' : 'the best fit'}`,
  };
  const profile = bestProfile(observations, hz, measured, fitProfile);
  const text = `${JSON.stringify(profile, null, 1)}\n`;
  if (out) {
    writeFileSync(out, text);
    io.err(`ksm-wasm calibrate: wrote ${out}\n`);
  } else {
    io.out(text);
  }
  return EXIT.done;
}

type Fit = typeof import('./fit.js')['fitProfile'];

/** With HZ known, the fit; without, the tick rate whose fit meets the times best. */
function bestProfile(obs: Parameters<Fit>[0], hz: number | undefined, measured: Record<string, unknown>, fit: Fit) {
  const fits = (hz ? [hz] : [100, 250, 300, 1000]).map((h) => fit(obs, h, measured));
  const worst = (p: ReturnType<Fit>) => Math.max(...(p.measured.fit as Array<{ worst_time_error_pct: number }>).map((r) => r.worst_time_error_pct));
  return fits.reduce((a, b) => (worst(b) < worst(a) ? b : a));
}

/** CONFIG_HZ of the running kernel, from /proc/config.gz or /boot/config-RELEASE, if either says. */
function configHz(): number | undefined {
  for (const path of ['/proc/config.gz', `/boot/config-${release()}`]) {
    try {
      const raw = readFileSync(path);
      const text = path.endsWith('.gz') ? gunzipSync(new Uint8Array(raw)).toString('utf8') : raw.toString('utf8');
      const m = /^CONFIG_HZ=(\d+)$/m.exec(text);
      if (m) return Number(m[1]);
    } catch { /* not there */ }
  }
  return undefined;
}

function outPath(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || Array.isArray(value)) throw new CliError('usage', '--out needs one file name');
  const full = resolve(value);
  if (existsSync(full) && statSync(full).isDirectory()) throw new CliError('input', `--out ${value}: is a directory (give a file name such as profile.json)`);
  if (!existsSync(dirname(full))) throw new CliError('input', `--out ${value}: directory ${dirname(full)} does not exist`);
  return full;
}

function repeatCount(value: unknown): number {
  if (value === undefined) return 1;
  const text = String(value);
  if (!/^[0-9]{1,3}$/.test(text) || Number(text) < 1 || Number(text) > 20) throw new CliError('input', `--repeats ${text}: must be an integer from 1 to 20`);
  return Number(text);
}

/** unavailableReason checks what root can do; this says it plainly where the process is not root. */
function notRoot(): string | undefined {
  const uid = process.getuid?.();
  return uid === undefined || uid === 0 ? undefined : `calibrate needs root: it writes /sys/kernel/mm/ksm and reads ksmd's /proc files (uid ${uid})`;
}
