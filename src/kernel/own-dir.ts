/**
 * A directory in the temp dir that only this user may write, kept between runs (the guests'
 * build cache, the knob journal). The kernel suites run as root and /tmp is shared: a file or
 * link someone else put at a predictable path must never be run, read as knobs or written through.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `${tmpdir}/${name}-${uid}`, created 0700 if absent; throws if it is not ours alone. */
export function ownTempDir(name: string): string {
  const dir = join(tmpdir(), `${name}-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const d = lstatSync(dir);
  if (!d.isDirectory() || (process.getuid && d.uid !== process.getuid()) || (d.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a directory of ours that only we may write: remove it and run again`);
  }
  return dir;
}
