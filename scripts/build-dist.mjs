// Compiles src/ to dist/ with the project's TypeScript (tsconfig.build.json), so `kvc` and its
// member processes run plain JavaScript instead of loading tsx and compiling every module at
// start. Part of the root package's "install" script (after the addon), and of `npm test` and
// `npm start` (incremental: a second run with nothing changed takes about a second).
//
// Like the addon build it never fails the install: without TypeScript (an install without
// devDependencies) or when tsc fails, it says so in one line and `kvc` runs from src/ through tsx.
// Then it bundles the compiled CLI (dist/cli/main.js and everything it imports from dist/, npm
// packages left out) into dist/bundle/ with esbuild, split at its dynamic imports: Node loads
// those few files ~20 ms faster than the ~50 modules a `kvc` call would load one by one (each ESM
// module costs ~1.3 ms to resolve, link and evaluate on the development VM). bin/kvc.js runs the
// bundle when it is there and dist/cli/main.js otherwise (esbuild missing or failing).
// On success it writes dist/BUILD-STAMP: the newest modification time of the sources compiled.
// bin/kvc.js runs dist/ only while no file under src/ is newer than that, so an edited source is
// never shadowed by stale JavaScript.
//
// Written in plain JavaScript because it runs before anything else is set up.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { newestMtimeMs } from './newest-mtime.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const STAMP = path.join(ROOT, 'dist', 'BUILD-STAMP');
/** The CLI bundle bin/kvc.js prefers; its files keep dist/cli's depth below the root, so paths made from import.meta.url hold. */
export const BUNDLE_DIR = path.join(ROOT, 'dist', 'bundle');
/** tsc of the whole tree takes tens of seconds on 2 cores; this only bounds a hung compiler. */
const BUILD_TIMEOUT_MS = 5 * 60 * 1000;
const OUTPUT_BYTES_MAX = 16 * 1024 * 1024;
const FAILURE_TAIL_LINES = 20;

function main() {
  if (!existsSync(TSC)) {
    process.stderr.write('kvc dist: TypeScript is not installed (devDependencies omitted); kvc runs from src/ through tsx\n');
    return;
  }
  const started = performance.now();
  // Sources are read now: a file edited while tsc runs is newer than the stamp, so it wins.
  const sourcesMtimeMs = newestMtimeMs(path.join(ROOT, 'src'));
  rmSync(STAMP, { force: true });
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [TSC, '-p', path.join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    maxBuffer: OUTPUT_BYTES_MAX,
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim().split('\n');
    process.stderr.write(`kvc dist: tsc failed; kvc runs from src/ through tsx. Last lines:\n${output.slice(-FAILURE_TAIL_LINES).join('\n')}\n`);
    return;
  }
  const bundled = bundleCli();
  writeFileSync(STAMP, `${JSON.stringify({ sourcesMtimeMs, builtAt: new Date().toISOString() })}\n`);
  process.stdout.write(`kvc dist: compiled src/ to dist/${bundled ? ' and bundled the CLI' : ''} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

/** dist/cli/main.js and its dist/ imports as dist/bundle/ (esbuild, a devDependency); false, and one line why, when it cannot. */
export function bundleCli(entry = path.join(ROOT, 'dist', 'cli', 'main.js'), outdir = BUNDLE_DIR) {
  let esbuild;
  try {
    esbuild = createRequire(import.meta.url)('esbuild');
  } catch {
    process.stderr.write('kvc dist: esbuild is not installed; kvc runs dist/cli unbundled\n');
    return false;
  }
  try {
    esbuild.buildSync({ entryPoints: [entry], outdir, bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'silent' });
    return true;
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    process.stderr.write(`kvc dist: bundling the CLI failed (${String(error).split('\n')[0]}); kvc runs dist/cli unbundled\n`);
    return false;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
