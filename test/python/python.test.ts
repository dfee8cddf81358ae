// Runs the Python client's suite (python/tests: hashing, wire format, the Client, the LMCache and
// SGLang adapters, the real-model prefix-reuse test) against one real `kvc dev` cluster of three
// member processes on 127.0.0.1, started here and shared by every Python test, and turns each
// Python test's outcome into one tap assertion (python/tests/run.py writes them as JSON lines).
// It proves the Python client interoperates with the TypeScript servers, and with the
// TypeScript client through the shared golden hash vectors. When /usr/bin/python3 lacks grpcio
// and protobuf (Debian's python3-grpcio, python3-protobuf; .ci/run installs them), the suite is
// skipped with one line saying so, rather than failing on a machine set up only for Node.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, freePortRange, startDev } from '../cli/helpers.js';

/** Debian's interpreter: the first `python3` on PATH may be another one that cannot see Debian's packages. */
const PYTHON = process.env.KVC_PYTHON ?? '/usr/bin/python3';
const PYTHON_DIR = fileURLToPath(new URL('../../python', import.meta.url));
const STUB = path.join(PYTHON_DIR, 'src', 'kvcache_cluster', '_proto', 'kvcache', 'v1', 'cache_pb2.py');
const NODES = 3;
/** The whole Python suite takes seconds; this bounds a hung one well inside tap's file timeout. */
const SUITE_TIMEOUT_MS = 200_000;
const PROBE_TIMEOUT_MS = 30_000;

interface Outcome {
  id: string;
  outcome: 'pass' | 'fail' | 'error' | 'skip';
  seconds: number;
  details?: string;
}

/** Why the suite cannot run here, or undefined when it can. */
function skipReason(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf'], { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    return `${PYTHON} cannot import grpc and google.protobuf (Debian: apt-get install python3-grpcio python3-protobuf; .ci/run installs them)`;
  }
  if (!existsSync(STUB)) {
    // `npm ci` generates the stubs; a checkout that skipped its install scripts gets them here.
    spawnSync(PYTHON, [path.join(PYTHON_DIR, 'gen_protos.py'), '--quiet'], { timeout: PROBE_TIMEOUT_MS, stdio: 'inherit' });
    if (!existsSync(STUB)) return 'the protobuf modules are not generated and protoc is missing (Debian: apt-get install protobuf-compiler)';
  }
  return undefined;
}

function runSuite(endpoints: string[], report: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'tests.run', report], {
      cwd: PYTHON_DIR,
      env: childEnv({ PYTHONPATH: path.join(PYTHON_DIR, 'src'), KVC_TEST_ENDPOINTS: endpoints.join(','), PYTHONDONTWRITEBYTECODE: '1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const reason = skipReason();
t.test('Python client suite against a real 3-member cluster', reason === undefined ? {} : { skip: `Python suite skipped: ${reason}` }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-python-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const dev = await startDev(t, ['--nodes', String(NODES), '--base-port', String(await freePortRange(NODES)), '--dir', path.join(dir, 'cluster')]);
  const report = path.join(dir, 'report.jsonl');
  const { code, output } = await runSuite(dev.line.endpoints, report);
  const outcomes = existsSync(report)
    ? readFileSync(report, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Outcome)
    : [];
  for (const o of outcomes) {
    const name = `${o.id.replace(/^tests\./, '')} (${o.seconds.toFixed(1)} s)`;
    if (o.outcome === 'pass') t.pass(name);
    else if (o.outcome === 'skip') t.pass(name, { skip: o.details ?? 'skipped' });
    else t.fail(name, { diagnostic: true, details: o.details ?? '' });
  }
  t.ok(outcomes.length >= 20, `the suite reported ${outcomes.length} tests`);
  t.equal(code, 0, 'the Python suite exited 0', code === 0 ? {} : { output: output.slice(-6000) });
});
