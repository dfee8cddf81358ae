// Generates the Python client's protobuf modules from proto/ (python/gen_protos.py) during
// `npm ci`, after the native addon: the package.json "install" script runs it, so after `npm ci`
// `PYTHONPATH=python/src /usr/bin/python3 -c 'import kvcache_cluster'` works. Debian's
// interpreter is used on purpose: the first `python3` on PATH may be another one.
//
// Like build-native.mjs it never fails the install: without /usr/bin/python3 or protoc it says so
// in one line and exits 0 (the Node project does not need the Python client). Written in plain
// JavaScript because it runs before anything else is set up.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = process.env.KVC_PYTHON ?? '/usr/bin/python3';
const GENERATOR = path.join(ROOT, 'python', 'gen_protos.py');
/** protoc takes well under a second; this bounds a hung one. */
const TIMEOUT_MS = 60_000;

if (!existsSync(PYTHON)) {
  process.stdout.write(`kvc python: ${PYTHON} not found; the Python client's stubs were not generated\n`);
} else {
  const result = spawnSync(PYTHON, [GENERATOR], { cwd: ROOT, stdio: 'inherit', timeout: TIMEOUT_MS });
  if (result.error !== undefined || result.status !== 0) {
    process.stdout.write(`kvc python: WARNING: stub generation failed (${result.error?.message ?? `exit ${result.status}`}); run ${PYTHON} python/gen_protos.py\n`);
  }
}
process.exit(0);
