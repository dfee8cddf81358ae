// The `python` benchmark: the Python client (python/bench.py, run with Debian's /usr/bin/python3)
// and the TypeScript client doing the same work against one `kvc dev` cluster (3 real member
// processes, fsync on): PUT throughput of 2 MiB pages (8 per call, one call at a time), GET
// throughput of every page read back into one preallocated buffer (crc32c checked; the Python
// client also without the check, to show its cost, and copied from the members' shared arenas),
// the Python client's crc32c (which implementation, and its MB/s), and the latency of a 64-key Lookup whose
// first half is cached. Both clients share the machine with the servers: compare within one run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashBlocks, type KvcClient } from '../../src/client/index.js';
import { startKvcDev } from './kvc-dev-cluster.js';
import { quantile, round, withTempDir } from './measure.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

const PYTHON = process.env.KVC_PYTHON ?? '/usr/bin/python3';
const PYTHON_DIR = fileURLToPath(new URL('../../python', import.meta.url));
const PAGES = 64;
const PAGE_BYTES = 2 * 1024 * 1024;
const BATCH = 8;
const READS = 3;
const LOOKUPS = 500;
const CHAIN_KEYS = 64;
const TOKENS_PER_PAGE = 16;
/**
 * The clients take turns this many times on the same cluster: on a shared machine the load
 * changes from minute to minute, and one round each would credit whoever ran in the quieter one.
 */
const ROUNDS = 2;
/** The Python run moves ~0.5 GB on a shared machine; past this it is hung, not slow. */
const PYTHON_TIMEOUT_MS = 10 * 60 * 1000;
const MB = 1e6;

type Row = Record<string, number | string>;

async function measureTypeScript(client: KvcClient): Promise<Row> {
  const ns = `bench-ts-${randomBytes(4).toString('hex')}`;
  const payloads = Array.from({ length: BATCH }, () => new Uint8Array(randomBytes(PAGE_BYTES)));
  const keys = Array.from({ length: PAGES }, () => new Uint8Array(randomBytes(16)));
  let started = performance.now();
  for (let first = 0; first < PAGES; first += BATCH) {
    const pages = keys.slice(first, first + BATCH).map((key, j) => ({
      meta: { namespace: ns, key, dtype: 'u8' as const, shape: [PAGE_BYTES], tokens: TOKENS_PER_PAGE },
      data: payloads[j % payloads.length]!,
    }));
    const outcomes = await client.putPages(pages);
    if (outcomes.some((o) => o.code !== '')) throw new Error(`puts refused: ${outcomes.map((o) => o.code).join(',')}`);
  }
  const putMBps = (PAGES * PAGE_BYTES) / MB / ((performance.now() - started) / 1000);
  for (const endpoint of client.endpoints()) {
    for (let i = 0; i < 600 && (await client.lookup(ns, keys, { endpoint })) < PAGES; i++) await new Promise((r) => setTimeout(r, 50));
  }
  const target = new Uint8Array(PAGES * PAGE_BYTES);
  started = performance.now();
  for (let i = 0; i < READS; i++) await client.getPagesInto(ns, keys, target);
  const getMBps = (READS * PAGES * PAGE_BYTES) / MB / ((performance.now() - started) / 1000);
  const chain = hashBlocks(Array.from({ length: TOKENS_PER_PAGE * CHAIN_KEYS }, (_, i) => i), { blockTokens: TOKENS_PER_PAGE, namespace: ns });
  const half = chain.slice(0, CHAIN_KEYS / 2);
  await client.putPages(half.map((key) => ({ meta: { namespace: ns, key, dtype: 'u8' as const, shape: [16], tokens: TOKENS_PER_PAGE }, data: new Uint8Array(16) })));
  const latencies: number[] = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const t0 = performance.now();
    await client.lookup(ns, chain);
    latencies.push(performance.now() - t0);
  }
  await client.deletePages(ns, [...keys, ...half]);
  return {
    client: 'TypeScript',
    putMBps: round(putMBps, 1),
    getMBps: round(getMBps, 1),
    getMBpsNoVerify: '–',
    getMBpsSharedMemory: '–',
    crc32c: '–',
    lookupMsP50: round(quantile(latencies, 0.5), 3),
    lookupMsP99: round(quantile(latencies, 0.99), 3),
    lookupSharedMemory: '–',
  };
}

function measurePython(endpoints: string[]): Promise<Row> {
  const args = [path.join(PYTHON_DIR, 'bench.py'), '--json', '--endpoints', endpoints.join(','), '--pages', String(PAGES), '--page-bytes', String(PAGE_BYTES),
    '--batch', String(BATCH), '--reads', String(READS), '--lookups', String(LOOKUPS), '--chain-keys', String(CHAIN_KEYS)];
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONPATH: path.join(PYTHON_DIR, 'src') } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), PYTHON_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`python/bench.py exited ${code}: ${stderr.slice(-2000)}`));
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Row;
      return resolve({ client: 'Python', putMBps: result.putMBps!, getMBps: result.getMBps!, getMBpsNoVerify: result.getMBpsNoVerify!,
        getMBpsSharedMemory: result.sharedMemoryProblem === undefined ? result.getMBpsSharedMemory! : `– (${result.sharedMemoryProblem})`,
        crc32c: `${result.crc32cImplementation}, ${result.crc32cMBps} MB/s`,
        lookupMsP50: result.lookupMsP50!, lookupMsP99: result.lookupMsP99!, crc32cMBps: result.crc32cMBps!, crc32cImplementation: result.crc32cImplementation!,
        lookupSharedMemory: result.sharedLookupProblem === undefined ? `${result.lookupMsP50SharedMemory} / ${result.lookupMsP99SharedMemory}` : `– (${result.sharedLookupProblem})` });
    });
  });
}

function table(rows: Row[]): string {
  return [
    '| round | client | PUT MB/s | GET MB/s | GET MB/s, no crc32c check | GET MB/s, same-host shared memory | crc32c | Lookup p50 ms | Lookup p99 ms | same-host Lookup p50 / p99 ms |',
    '|---:|---|---:|---:|---:|---:|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.round} | ${r.client} | ${r.putMBps} | ${r.getMBps} | ${r.getMBpsNoVerify} | ${r.getMBpsSharedMemory} | ${r.crc32c} | ${r.lookupMsP50} | ${r.lookupMsP99} | ${r.lookupSharedMemory} |`),
  ].join('\n');
}

export const pythonSuite: BenchSuite = {
  name: 'python',
  description: 'the Python client beside the TypeScript client on one kvc dev cluster: PUT/GET MB/s of 2 MiB pages, Lookup latency',
  async run(options: BenchOptions): Promise<SuiteReport> {
    return withTempDir('kvc-bench-python-', async (dir) => {
      const cluster = await startKvcDev(path.join(dir, 'dev'));
      try {
        const rows: Row[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          options.progress(`python: round ${round}, TypeScript client`);
          rows.push({ round, ...(await measureTypeScript(cluster.client)) });
          options.progress(`python: round ${round}, Python client (${PYTHON})`);
          rows.push({ round, ...(await measurePython(cluster.endpoints)) });
        }
        const py = rows.at(-1)!;
        return {
          suite: 'python',
          results: rows,
          table: table(rows),
          notes: [
            `Per client and round: ${PAGES} new pages of 2 MiB put ${BATCH} per call, one call at a time (each waits for a majority commit); read back ${READS} times into one buffer; ${LOOKUPS} Lookups of a ${CHAIN_KEYS}-key chain, half cached, one at a time. Reads rotate over the members. The clients take turns, ${ROUNDS} rounds.`,
            `Python: ${PYTHON} with Debian's grpcio. Its crc32c (kvcache_cluster.checksum): ${py.crc32cImplementation} at ${py.crc32cMBps} MB/s here (the C extension python3-crc32c when installed, else numpy); every byte a checked get receives goes through it, so the column without the check shows what it costs. Shared memory: pages copied from the members' shared arenas (transfer="shared-memory"; always checked). Same-host Lookup: the same lookups answered from a member's shared index (lookup_via="shared-memory", no call).`,
            'MB/s = 10^6 bytes per second. Servers and clients share the machine: compare within one run.',
          ],
        };
      } finally {
        await cluster.stop();
      }
    });
  },
};
