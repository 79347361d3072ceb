/**
 * Guest processes: the C helper (ksm_guest.c) built with cc once, then one process per image,
 * started one after the other so that ksmd's list of mms, and so its scan order, is the image
 * order. Each mapping is checked through smaps before ksmd runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownTempDir } from './own-dir.js';

// The same path from src/kernel (tsx) and dist/kernel (the package ships src/kernel/ksm_guest.c).
const SOURCE = fileURLToPath(new URL('../../src/kernel/ksm_guest.c', import.meta.url));

/**
 * Builds a helper (ksm_guest.c by default) into a directory of ours in the temp dir (once per
 * source version); its path, or an error.
 */
export function buildGuest(sourcePath = SOURCE): string {
  const source = readFileSync(sourcePath);
  const version = createHash('sha256').update(new Uint8Array(source)).digest('hex').slice(0, 12);
  const binary = join(ownTempDir('ksm-wasm-guests'), `${basename(sourcePath, '.c')}-${version}`);
  if (existsSync(binary)) return binary;
  const partial = `${binary}.${process.pid}.tmp`; // renamed when complete: a killed build leaves no half binary
  const cc = spawnSync('cc', ['-O2', '-Wall', '-o', partial, sourcePath], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) throw new Error(`cc could not build ${sourcePath}: ${cc.error?.message ?? cc.stderr}`);
  renameSync(partial, binary);
  return binary;
}

export interface Guest { pid: number; address: number; bytes: number; child: ChildProcess; image: string }

/** Starts a guest on an image and waits for "ready". */
export async function startGuest(binary: string, image: string): Promise<Guest> {
  const child = spawn(binary, [image], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`guest for ${image} did not get ready in 60 s`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) { clearTimeout(timer); resolve(text.trim()); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`guest for ${image} exited (${code}) before ready: ${text.trim()}`)); });
  });
  const m = /^ready ([0-9a-f]+) (\d+)$/.exec(line);
  if (!m) { child.kill('SIGKILL'); throw new Error(`guest for ${image}: ${line}`); }
  return { pid: child.pid!, address: parseInt(m[1], 16), bytes: Number(m[2]), child, image };
}

/** Closes the guest's stdin and waits for it; its exit status says whether its memory still held the image. */
export async function stopGuest(guest: Guest): Promise<number | null> {
  if (guest.child.exitCode !== null) return guest.child.exitCode;
  const exited = new Promise<number | null>((resolve) => guest.child.once('exit', (code) => resolve(code)));
  guest.child.stdin!.end();
  const timer = setTimeout(() => guest.child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/**
 * Checks that the guest's mapping is all present, anonymous, without huge pages, mergeable (mg)
 * and no-huge-page (nh); throws with what is wrong.
 */
export function verifyMapping(guest: Guest): void {
  const smaps = readFileSync(`/proc/${guest.pid}/smaps`, 'utf8').split('\n');
  const start = smaps.findIndex((l) => l.startsWith(`${guest.address.toString(16)}-`));
  if (start < 0) throw new Error(`guest ${guest.pid}: mapping at ${guest.address.toString(16)} not in smaps`);
  const fields: Record<string, string> = {};
  for (let i = start + 1; i < smaps.length && !/^[0-9a-f]+-/.test(smaps[i]); i++) {
    const [key, ...rest] = smaps[i].split(':');
    fields[key] = rest.join(':').trim();
  }
  const kb = `${guest.bytes / 1024} kB`;
  const flags = (fields.VmFlags ?? '').split(/\s+/);
  const bad = [
    fields.Rss !== kb && `Rss ${fields.Rss} (want ${kb})`,
    fields.Anonymous !== kb && `Anonymous ${fields.Anonymous} (want ${kb})`,
    fields.AnonHugePages !== '0 kB' && `AnonHugePages ${fields.AnonHugePages}`,
    !flags.includes('mg') && 'not mergeable (no mg flag)',
    !flags.includes('nh') && 'no nh flag',
  ].filter(Boolean);
  if (bad.length) throw new Error(`guest ${guest.pid} (${guest.image}): ${bad.join(', ')}`);
}
