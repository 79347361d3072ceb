/**
 * What the QEMU guests need: Debian's qemu-system-x86, linux-image-amd64, busybox-static, cpio
 * and, to boot them without huge pages, python3 (installed with apt-get when missing), and a tiny
 * initramfs: busybox, and an /init that mounts
 * proc, sys and dev, prints a marker line on the serial console and idles.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const READY_MARKER = 'KSM-WASM-GUEST-READY';
const PACKAGES: Record<string, () => boolean> = {
  'qemu-system-x86': () => existsSync('/usr/bin/qemu-system-x86_64'),
  'linux-image-amd64': () => findKernel() !== undefined,
  'busybox-static': () => existsSync('/bin/busybox') && isStatic('/bin/busybox'),
  cpio: () => existsSync('/usr/bin/cpio') || existsSync('/bin/cpio'),
  python3: () => spawnSync('python3', ['-c', '']).status === 0,
};

function isStatic(path: string): boolean {
  const r = spawnSync('file', ['-L', path], { encoding: 'utf8' });
  return r.status !== 0 ? true : /statically linked|static-pie/.test(r.stdout);
}

/** The newest /boot/vmlinuz-*, or undefined. */
export function findKernel(): string | undefined {
  const kernels = existsSync('/boot') ? readdirSync('/boot').filter((f) => /^vmlinuz-/.test(f)).sort() : [];
  return kernels.length ? join('/boot', kernels[kernels.length - 1]) : undefined;
}

/** Installs the missing packages with apt-get (root); returns the ones installed. */
export function installMissing(log: (line: string) => void): string[] {
  const missing = Object.entries(PACKAGES).filter(([, present]) => !present()).map(([name]) => name);
  if (missing.length === 0) return [];
  log(`apt-get install ${missing.join(' ')} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (update.status !== 0) throw new Error('apt-get update failed');
  const install = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (install.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`);
  return missing;
}

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox --install -s /bin
echo "${READY_MARKER} $(cut -d' ' -f1 /proc/uptime)" > /dev/console
while true; do sleep 3600; done
`;

/** Builds dir/initramfs.cpio.gz (once) and returns its path. */
export function buildInitramfs(dir: string): string {
  const out = join(dir, 'initramfs.cpio.gz');
  if (existsSync(out)) return out;
  const root = join(dir, 'root');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
  const r = spawnSync('sh', ['-c', `cd '${root}' && find . | cpio -o -H newc --quiet | gzip -9 > '${out}.tmp' && mv '${out}.tmp' '${out}'`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not build the initramfs: ${r.stderr}`);
  return out;
}
