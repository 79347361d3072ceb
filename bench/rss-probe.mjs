// Loaded with --import into a child the bench times: at exit, the process's peak resident memory
// (all its threads), on a line of its own on stderr.
//
// The peak is the kernel's VmHWM of this process's own memory. getrusage's maxRSS is not used:
// Linux carries into it the resident size of the parent at fork, before exec (a bench process
// holding 2.4 GiB after its other suites made a 1.2 GiB child report 2.4 GiB). Where /proc is
// missing, maxRSS is the fallback.
import { readFileSync } from 'node:fs';

function peakKib() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch { /* no /proc here */ }
  return process.resourceUsage().maxRSS;
}

process.on('exit', () => process.stderr.write(`\nbench-max-rss-kib ${peakKib()}\n`));
