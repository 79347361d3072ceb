// Builds the browser demo into a static site: dist/demo/{index.html, styles.css, main.js,
// fingerprint-worker.js}. One classic script (an IIFE bundle of demo/main.ts and the library's TypeScript sources, the core
// embedded as base64), so any plain static file server works, with no special headers.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Writes the site to `outdir` (default dist/demo) and returns its path. */
export async function buildDemo({ outdir = join(root, 'dist', 'demo'), minify = true } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  // The page, and the Web Worker that fingerprints dropped files (its own classic script).
  for (const [entry, out] of [['main.ts', 'main.js'], ['images/fingerprint-worker.ts', 'fingerprint-worker.js']]) await build({
    entryPoints: [join(root, 'demo', entry)],
    outfile: join(outdir, out),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'styles.css']) copyFileSync(join(root, 'demo', file), join(outdir, file));
  return outdir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const outdir = await buildDemo();
    console.log(`demo built: ${outdir}/index.html`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
