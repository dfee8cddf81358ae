// The client process of the `pool` benchmark (pool.ts): puts fp32 pages with store_dtype fp16
// through the project's client library, from its own process so that the client's work
// (checksums, serialization) never shows in the member's event-loop delay.
//
//   node --import tsx scripts/bench/pool-client.ts <leader host:port> <pages> <pageBytes> <inflight>
//
// It puts two warm-up pages, prints "ready" and waits for a line on stdin; then it puts <pages>
// pages, <inflight> puts (one page each) at a time, and prints one JSON line
// {"pages", "bytes", "elapsedMs"} (bytes as sent: fp32). Errors go to stderr with exit code 1.
import { createInterface } from 'node:readline';
import { KvcClient, type PageInput } from '../../src/client/index.js';

const WARMUP_PAGES = 2;
/** Distinct payloads; more would only cost memory (32 MiB each). */
const PAYLOADS = 2;
const KEY_BYTES = 16;
const LAYERS = 32;
const TOKENS = 256;
const NS = 'bench-pool';
/** 32 MiB pages through one member with fsync: a put may take seconds on a busy machine. */
const DEADLINE_MS = 120_000;

const [address, pagesText, pageBytesText, inflightText] = process.argv.slice(2);
const pages = Number(pagesText);
const pageBytes = Number(pageBytesText);
const inflight = Number(inflightText);
if (address === undefined || !(pages > 0) || !(pageBytes > 0 && pageBytes % (4 * LAYERS) === 0) || !(inflight > 0)) {
  console.error('usage: pool-client.ts <host:port> <pages> <pageBytes (multiple of 128)> <inflight>');
  process.exit(2);
}

/** Model-like fp32 activations: mostly small magnitudes, some past fp16's range, deterministic. */
function payload(seed: number): Uint8Array {
  const values = new Float32Array(pageBytes / 4);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < values.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    values[i] = (((x >>> 0) / 2 ** 32) * 2 - 1) * 2 ** ((x & 31) - 12);
  }
  return new Uint8Array(values.buffer);
}

const payloads = Array.from({ length: PAYLOADS }, (_, i) => payload(i + 1));

function page(i: number): PageInput {
  const key = new Uint8Array(KEY_BYTES);
  key.set([0x70, 0x6f, 0x6f, 0x6c]);
  new DataView(key.buffer).setUint32(KEY_BYTES - 4, i);
  const meta = { namespace: NS, key, dtype: 'fp32' as const, storeDtype: 'fp16' as const, shape: [LAYERS, pageBytes / 4 / LAYERS], tokens: TOKENS };
  return { meta, data: payloads[i % PAYLOADS]! };
}

const client = new KvcClient({ endpoints: [address], deadlineMs: DEADLINE_MS });

async function put(i: number): Promise<void> {
  const [outcome] = await client.putPages([page(i)]);
  if (outcome === undefined || outcome.code !== '') throw new Error(`put ${i}: ${outcome?.code} ${outcome?.message}`);
}

/** Puts pages first..first+count-1, `inflight` at a time. */
async function putAll(first: number, count: number): Promise<void> {
  let next = first;
  const worker = async (): Promise<void> => {
    while (next < first + count) await put(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inflight, count) }, worker));
}

try {
  await putAll(0, WARMUP_PAGES);
  console.log('ready');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
  const started = performance.now();
  await putAll(WARMUP_PAGES, pages);
  const elapsedMs = performance.now() - started;
  console.log(JSON.stringify({ pages, bytes: pages * pageBytes, elapsedMs }));
  client.close();
} catch (error) {
  console.error(`pool-client: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
}
