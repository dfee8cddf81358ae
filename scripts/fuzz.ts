// Fuzzes every RPC of a live cluster with mutated requests (src/fuzz, docs/FUZZ.md).
//
//   npm run fuzz -- [--requests N] [--seed S] [--endpoints host:port,...] [--token T]
//                   [--concurrency N] [--json]
//
// Without --endpoints it starts a 3-member cluster in this process (temp dir, loopback ports) and
// stops it afterwards; with --endpoints it targets a running cluster (list every member; --token
// is its admin token, if it has one). Prints a table per method (requests, ok, coded errors by
// code, uncoded answers, member crashes), or one JSON line with --json; exit 1 when the run fails.
import { parseArgs } from 'node:util';
import { runFuzz, startFuzzCluster, type FuzzCluster, type FuzzSummary } from '../src/fuzz/index.js';
import { intOption } from './options.js';

const REQUESTS_DEFAULT = 2_000;

const { values } = parseArgs({
  options: {
    requests: { type: 'string' },
    seed: { type: 'string' },
    endpoints: { type: 'string' },
    token: { type: 'string' },
    concurrency: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

const requests = intOption('requests', values.requests, REQUESTS_DEFAULT);
const seed = intOption('seed', values.seed, Date.now() % 1_000_000);
const concurrency = intOption('concurrency', values.concurrency, 8);
const log = values.json ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);

let cluster: FuzzCluster | undefined;
let summary: FuzzSummary;
try {
  if (values.endpoints === undefined) cluster = await startFuzzCluster();
  const endpoints = cluster?.endpoints ?? values.endpoints!.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const token = cluster?.adminToken ?? values.token;
  summary = await runFuzz({
    endpoints,
    requests,
    seed,
    concurrency: Math.max(1, concurrency),
    log,
    ...(token === undefined ? {} : { adminToken: token }),
    ...(cluster === undefined ? {} : { memberFailed: cluster.memberFailed }),
  });
} finally {
  await cluster?.stop();
}

if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
else printSummary(summary);
process.exitCode = summary.ok ? 0 : 1;

function printSummary(s: FuzzSummary): void {
  const rows = Object.entries(s.methods).sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(6, ...rows.map(([name]) => name.length));
  process.stdout.write(`${'METHOD'.padEnd(width)}  REQUESTS      OK  UNCODED  CRASHES  SLOWEST  CODED\n`);
  for (const [name, t] of rows) {
    const uncoded = Object.values(t.uncoded).reduce((a, b) => a + b, 0);
    const coded = Object.entries(t.coded).sort(([, a], [, b]) => b - a).map(([code, n]) => `${code} ${n}`).join(', ');
    const skipped = t.skipped > 0 ? ` (${t.skipped} well-formed held back)` : '';
    process.stdout.write(`${name.padEnd(width)}  ${String(t.requests).padStart(8)}  ${String(t.ok).padStart(6)}  ${String(uncoded).padStart(7)}  ${String(t.crashes).padStart(7)}  ${`${t.slowestMs} ms`.padStart(7)}  ${coded}${skipped}\n`);
  }
  process.stdout.write(`seed ${s.seed}: ${s.requests} requests in ${(s.durationMs / 1000).toFixed(1)} s, ${s.writesAccepted} writes accepted, digest ${s.digestBefore.slice(0, 12)} → ${s.digestAfter.slice(0, 12)}\n`);
  for (const f of s.failures) process.stdout.write(`FAIL: ${f}\n`);
  process.stdout.write(s.ok ? 'ok\n' : 'FAILED\n');
}
