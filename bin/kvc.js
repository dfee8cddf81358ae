#!/usr/bin/env node
// The `kvc` command (package.json "bin"). It runs the compiled JavaScript in dist/ (built by
// scripts/build-dist.mjs during `npm ci`, `npm test` and `npm start`) while that is up to date:
// no file under src/ is newer than dist/BUILD-STAMP: the build's bundle of the CLI (dist/bundle)
// when there is one, else dist/cli/main.js. Otherwise, or with KVC_FROM_SOURCE=1, it
// registers tsx's loader and runs the TypeScript sources. KVC_DEBUG_ENTRY=1 prints which one it
// chose on stderr. The tests' kvc child processes run whichever this picks; their coverage is not
// counted (test/cli/helpers.ts childEnv).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { newestMtimeMs } from '../scripts/newest-mtime.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function distIsFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(path.join(ROOT, 'dist', 'BUILD-STAMP'), 'utf8'));
  } catch {
    return false;
  }
  // The same walk the build stamped (scripts/build-dist.mjs, through scripts/newest-mtime.mjs).
  return newestMtimeMs(path.join(ROOT, 'src')) <= stamp.sourcesMtimeMs;
}

const fromSource = process.env.KVC_FROM_SOURCE === '1' || !distIsFresh();
const bundle = path.join(ROOT, 'dist', 'bundle', 'main.js');
const bundled = !fromSource && existsSync(bundle);
if (process.env.KVC_DEBUG_ENTRY === '1') process.stderr.write(`kvc: running ${fromSource ? 'src/ through tsx' : bundled ? 'dist/bundle' : 'dist/'}\n`);
if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else if (bundled) {
  // The same modules in a few files (scripts/build-dist.mjs), which Node loads ~20 ms faster.
  await import(pathToFileURL(bundle).href);
} else {
  await import('../dist/cli/main.js');
}
