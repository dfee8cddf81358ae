// Proves that scripts/build-native.mjs (the package's "install" script) never fails an install:
// with KVC_NATIVE=0 it skips the build and says so; when node-gyp is missing, and when the build
// itself fails (a copy of the script beside a broken binding.gyp in a temp dir), it prints one
// warning naming the TypeScript fallback and exits 0. The real build is not rerun here: `npm ci`
// runs it, and every other test in test/native uses its result.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { childEnv } from '../cli/helpers.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'build-native.mjs');
/** node-gyp fails on a broken binding.gyp within seconds; this bounds a hung one. */
const RUN_TIMEOUT_MS = 120_000;
const WARNING = /kvc native: WARNING: the native addon was not built \(.+\)\. kvcache-cluster still works on its TypeScript paths/;

function runScript(script: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [script], { env: childEnv(env), encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
}

/** A temp tree shaped like the repository: scripts/build-native.mjs, native/binding.gyp, maybe node_modules. */
function fakeCheckout(t: Test, bindingGyp: string, withNodeModules: boolean): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kvc-build-native-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'scripts'));
  mkdirSync(path.join(root, 'native'));
  copyFileSync(SCRIPT, path.join(root, 'scripts', 'build-native.mjs'));
  writeFileSync(path.join(root, 'native', 'binding.gyp'), bindingGyp);
  if (withNodeModules) symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  return path.join(root, 'scripts', 'build-native.mjs');
}

t.test('KVC_NATIVE=0 skips the build', async (t) => {
  const result = runScript(SCRIPT, { KVC_NATIVE: '0' });
  t.equal(result.status, 0);
  t.equal(result.stdout, 'kvc native: KVC_NATIVE=0: not building the native addon; the TypeScript paths will be used\n');
});

t.test('a failing build warns and exits 0', async (t) => {
  const result = runScript(fakeCheckout(t, '{ this is not gyp', true), { KVC_NATIVE: '' });
  t.equal(result.status, 0, 'the install goes on');
  t.match(result.stderr, WARNING);
  t.match(result.stderr, /node-gyp exited with 1/, 'the warning says what failed');
  t.match(result.stderr, / {2}\| /, 'with the tail of the build output');
});

t.test('a missing node-gyp warns and exits 0', async (t) => {
  const result = runScript(fakeCheckout(t, '{}', false), { KVC_NATIVE: '' });
  t.equal(result.status, 0);
  t.match(result.stderr, WARNING);
  t.match(result.stderr, /node-gyp is not installed/);
});
