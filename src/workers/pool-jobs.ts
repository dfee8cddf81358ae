// The jobs of the work pool (pool.ts) as pure functions of their input. The same functions run
// inline on the calling thread and inside the pool's worker threads (pool-worker.ts), so a job
// gives the same bytes and checksums wherever it runs: the pool only decides where.
//
// Jobs travel between threads by structured clone, so they hold plain data (no class instances,
// no errors with extra fields): an expected outcome such as a checksum mismatch is a result,
// not an exception, and the caller turns it into its KvcError. An exception from a job is a bug
// (for example a payload whose length is not a whole number of elements) and is passed on as is.
import { bf16ToFp16, crc32c, fp32ToFp16, type Dtype } from '../codec/index.js';

/** The conversions a put may ask for (store_dtype): fp32 or bf16 in, fp16 stored. */
export type StoreConversion = 'fp32>fp16' | 'bf16>fp16';

const STORE_CONVERSIONS: ReadonlySet<string> = new Set<StoreConversion>(['fp32>fp16', 'bf16>fp16']);

/** The conversion that stores `from` as `to`; undefined when the put asks for none or for one that does not exist. */
export function storeConversion(from: Dtype, to: Dtype): StoreConversion | undefined {
  const name = `${from}>${to}`;
  return STORE_CONVERSIONS.has(name) ? (name as StoreConversion) : undefined;
}

/** Prepares one put page: checks the received bytes, converts them, checksums what is stored. */
export interface PreparePutJob {
  kind: 'prepare-put';
  /** The page's bytes as received. */
  data: Uint8Array;
  /** The crc32c the client declared for `data`. */
  expectedCrc32c: number;
  /** Omitted: the page is stored as received. */
  conversion?: StoreConversion;
}

export type PreparePutResult =
  /** `data` is what to store (the input itself when there is no conversion) and `crc32c` its checksum. */
  | { ok: true; data: Uint8Array; crc32c: number }
  /** The received bytes do not match the declared checksum; nothing was converted. */
  | { ok: false; actualCrc32c: number };

/** crc32c of `data` (a snapshot chunk). */
export interface ChecksumJob {
  kind: 'checksum';
  data: Uint8Array;
}

/** The checksum, and the bytes themselves: a job that moved them to a worker hands them back. */
export interface ChecksumResult {
  data: Uint8Array;
  crc32c: number;
}

export type PoolJob = PreparePutJob | ChecksumJob;
export type PoolJobResult<J extends PoolJob> = J extends PreparePutJob ? PreparePutResult : ChecksumResult;

/** Runs one job on this thread. */
export function runJob<J extends PoolJob>(job: J): PoolJobResult<J>;
export function runJob(job: PoolJob): PreparePutResult | ChecksumResult {
  switch (job.kind) {
    case 'prepare-put':
      return preparePut(job);
    case 'checksum':
      return { data: job.data, crc32c: crc32c(job.data) };
    default:
      throw new TypeError(`unknown pool job ${JSON.stringify((job as { kind?: unknown }).kind)}`);
  }
}

export function preparePut(job: PreparePutJob): PreparePutResult {
  const actual = crc32c(job.data);
  if (actual !== job.expectedCrc32c) return { ok: false, actualCrc32c: actual };
  if (job.conversion === undefined) return { ok: true, data: job.data, crc32c: actual };
  const data = convert(job.data, job.conversion);
  return { ok: true, data, crc32c: crc32c(data) };
}

/** The codec's conversion on bytes; the input is left unchanged and the output is a fresh buffer. */
export function convert(data: Uint8Array, conversion: StoreConversion): Uint8Array {
  const out =
    conversion === 'fp32>fp16'
      ? fp32ToFp16(elements(data, Float32Array, Float32Array.BYTES_PER_ELEMENT))
      : bf16ToFp16(elements(data, Uint16Array, Uint16Array.BYTES_PER_ELEMENT));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * `data` as an element view. A typed-array view needs an aligned offset and received buffers are
 * often views at odd offsets (gRPC frames): those are copied first. A length that is not a whole
 * number of elements is a bug upstream (validation checks shape × dtype = bytes) and throws.
 */
function elements<T>(data: Uint8Array, make: new (buffer: ArrayBuffer, byteOffset: number, length: number) => T, elementBytes: number): T {
  if (data.byteLength % elementBytes !== 0) {
    throw new RangeError(`a payload of ${data.byteLength} bytes is not a whole number of ${elementBytes}-byte elements`);
  }
  const length = data.byteLength / elementBytes;
  if (data.byteOffset % elementBytes === 0 && data.buffer instanceof ArrayBuffer) return new make(data.buffer, data.byteOffset, length);
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return new make(copy.buffer, 0, length);
}

// ---- the worker protocol (pool.ts ↔ pool-worker.ts) ---------------------------------------------

/** What each worker receives as its workerData. */
export interface PoolWorkerData {
  /** The CPUs to pin the worker to (the arena's NUMA node); empty: do not pin. */
  cpus: number[];
}

/** The `type` of the message a worker posts once when it starts. */
export const POOL_WORKER_READY = 'kvc-pool-worker-ready';

/** Posted by each worker when it starts: whether it could pin itself, and why not. */
export interface PoolWorkerReady {
  type: typeof POOL_WORKER_READY;
  threadId: number;
  pinned: boolean;
  reason: string;
}
