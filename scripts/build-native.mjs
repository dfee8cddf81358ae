// Builds the native addon (native/binding.gyp) with the project's own node-gyp. It is the root
// package's "install" script, so `npm ci` and `npm install` run it; `npm run build:native` runs it
// by hand (add `-- --verbose` to see the compiler).
//
// It never fails the install: the project runs on its TypeScript paths without the addon (more
// slowly), so a machine without a compiler, Python or headers still gets a working checkout.
// On failure it prints one warning with the tail of the build output and exits 0. KVC_NATIVE=0
// skips the build. Headers: when the running Node's own headers are on disk (a distribution's
// Node installs them under <prefix>/include/node) or npm_config_nodedir names a directory, node-gyp
// is pointed there with --nodedir; otherwise node-gyp downloads them as usual.
//
// Written in plain JavaScript because it runs before anything else is set up.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE_DIR = path.join(ROOT, 'native');
const NODE_GYP = path.join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const ADDON = path.join('native', 'build', 'Release', 'kvc_native.node');
/** A build takes seconds; this only bounds a hung compiler or header download. */
const BUILD_TIMEOUT_MS = 10 * 60 * 1000;
/** How much of a failed build's output the warning shows. */
const FAILURE_TAIL_LINES = 25;
const OUTPUT_BYTES_MAX = 64 * 1024 * 1024;
const MILLISECONDS_PER_SECOND = 1000;

const verbose = process.argv.includes('--verbose');

function say(line) {
  process.stdout.write(`kvc native: ${line}\n`);
}

/** Where node-gyp should read Node's headers from, or undefined to let it download them. */
function headersDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured) return configured;
  const prefix = path.dirname(path.dirname(process.execPath));
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function warn(reason, output) {
  const tail = output.trimEnd().split('\n').slice(-FAILURE_TAIL_LINES).map((line) => `  | ${line}`);
  process.stderr.write(
    `${tail.join('\n')}${tail.length > 0 ? '\n' : ''}` +
      `kvc native: WARNING: the native addon was not built (${reason}). kvcache-cluster still works on ` +
      'its TypeScript paths (slower conversions and checksums, no pinned memory). ' +
      'Run `npm run build:native -- --verbose` to see the whole build.\n',
  );
}

function build() {
  if (process.env.KVC_NATIVE === '0') {
    say('KVC_NATIVE=0: not building the native addon; the TypeScript paths will be used');
    return;
  }
  if (!existsSync(NODE_GYP)) {
    warn(`node-gyp is not installed at ${path.relative(ROOT, NODE_GYP)}`, '');
    return;
  }
  const nodedir = headersDir();
  const args = [NODE_GYP, 'rebuild', '--jobs=max', ...(nodedir === undefined ? [] : [`--nodedir=${nodedir}`])];
  // binding.gyp runs `node -p ...`: make sure that is this Node even when PATH has none.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
  const started = performance.now();
  const result = spawnSync(process.execPath, args, {
    cwd: NATIVE_DIR,
    env,
    encoding: 'utf8',
    stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    timeout: BUILD_TIMEOUT_MS,
    maxBuffer: OUTPUT_BYTES_MAX,
  });
  const seconds = ((performance.now() - started) / MILLISECONDS_PER_SECOND).toFixed(1);
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error !== undefined) {
    warn(`node-gyp could not run: ${result.error.message}`, output);
  } else if (result.status !== 0) {
    warn(`node-gyp exited with ${result.status ?? result.signal} after ${seconds} s`, output);
  } else if (!existsSync(path.join(ROOT, ADDON))) {
    warn(`node-gyp succeeded but ${ADDON} is missing`, output);
  } else {
    say(`built ${ADDON} in ${seconds} s${nodedir === undefined ? '' : ` (headers from ${nodedir})`}`);
  }
}

try {
  build();
} catch (error) {
  warn(`the build script failed: ${error instanceof Error ? error.message : String(error)}`, '');
}
process.exit(0);
