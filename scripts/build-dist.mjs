// Compiles src/ to dist/ with the project's TypeScript (tsconfig.build.json), so `kvc` and its
// member processes run plain JavaScript instead of loading tsx and compiling every module at
// start. Part of the root package's "install" script (after the addon), and of `npm test` and
// `npm start` (incremental: a second run with nothing changed takes about a second).
//
// Like the addon build it never fails the install: without TypeScript (an install without
// devDependencies) or when tsc fails, it says so in one line and `kvc` runs from src/ through tsx.
// On success it writes dist/BUILD-STAMP: the newest modification time of the sources compiled.
// bin/kvc.js runs dist/ only while no file under src/ is newer than that, so an edited source is
// never shadowed by stale JavaScript.
//
// Written in plain JavaScript because it runs before anything else is set up.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { newestMtimeMs } from './newest-mtime.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const STAMP = path.join(ROOT, 'dist', 'BUILD-STAMP');
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
  writeFileSync(STAMP, `${JSON.stringify({ sourcesMtimeMs, builtAt: new Date().toISOString() })}\n`);
  process.stdout.write(`kvc dist: compiled src/ to dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
