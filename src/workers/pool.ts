// The work pool: a few worker threads (piscina) for the CPU-heavy steps of a member, so that its
// event loop keeps ticking Raft, answering peers and reading streams while a 32 MiB page is
// checksummed and converted. The jobs themselves are pure functions (pool-jobs.ts) that run
// either inline on the calling thread or in a worker, with the same results; the pool decides
// where:
// - inline when the pool has no threads (option 0), when the job is small (a thread hop costs
//   more than the work below LIMITS.pool.offloadBytesMin; for a checksum alone with the native addon,
//   below NATIVE_CHECKSUM_OFFLOAD_BYTES_MIN), when the queue is full (backpressure: the caller
//   pays with its own thread), and after the pool failed (logged once);
// - otherwise in a worker, the input moved there by transfer when the caller owns its whole
//   ArrayBuffer, else copied first (a view into a shared slab must never be moved, and a plain
//   structured clone would copy the whole slab).
//
// Lazy: no thread starts before the first offloaded job, and idle threads exit after
// LIMITS.pool.idleTimeoutMs, so a test process that starts dozens of members does not hold dozens of
// threads. Each worker pins itself to the CPUs of the arena's NUMA node (pool-worker.ts) and
// reports whether that worked; `status()` says so. Workers run at a lower priority (nice) than the
// event loop, which keeps at least one core: bulk work fills the gaps.
//
// Other folders import it through src/workers/index.ts. It lives above src/codec and src/native
// (not in src/native, which the codec loads and which must stay light): only what runs a pool
// loads piscina.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { LIMITS } from '../limits.js';
import { nativeStatus, numaTopology } from '../native/index.js';
import { POOL_WORKER_READY, runJob, type ChecksumResult, type PoolJob, type PoolJobResult, type PoolWorkerData, type PoolWorkerReady, type PreparePutJob, type PreparePutResult } from './pool-jobs.js';

/**
 * With the native addon, a job that is only a checksum (a snapshot chunk, a put stored as
 * received) stays inline below this: SSE4.2 crc32c takes about 0.09 ms per MiB here, so a 1 MiB
 * chunk costs the event loop less than handing it to a worker would, while a 32 MiB page (3 ms)
 * is still worth moving.
 */
export const NATIVE_CHECKSUM_OFFLOAD_BYTES_MIN = 16 * 1024 * 1024;
/**
 * The most threads a member starts by default: small, since Raft, gRPC and LevelDB need cores
 * too. One core is always left to the event loop: on this 2-core machine one worker kept the
 * loop's p99 delay at 1.4 ms while 32 MiB pages were prepared back to back, two let it reach
 * 20 ms and converted fewer pages per second (`npm run bench -- pool`).
 */
export const DEFAULT_WORKER_THREADS_MAX = 2;
/**
 * Workers run at this much lower CPU priority (Linux nice, per thread) than the event loop, so
 * where cores are few the scheduler runs the event loop first and the bulk work in the gaps.
 */
export const POOL_WORKER_NICE_INCREMENT = 10;
/** How long close() waits for a job running in a worker before it terminates the thread. */
const POOL_CLOSE_TIMEOUT_MS = 5_000;

/** A member's default `workerThreads`: cores - 1, at least 1 and at most DEFAULT_WORKER_THREADS_MAX. */
export function defaultWorkerThreads(): number {
  return Math.max(1, Math.min(DEFAULT_WORKER_THREADS_MAX, availableParallelism() - 1));
}

export interface WorkPoolOptions {
  /** Worker threads; 0 = none, every job runs inline on the calling thread. */
  threads: number;
  /** The NUMA node whose CPUs the workers pin themselves to (the arena's); default 0. */
  numaNode?: number;
  /** Jobs on fewer bytes run inline; default LIMITS.pool.offloadBytesMin (tests lower it to send small jobs to the workers). */
  offloadBytesMin?: number;
  /**
   * The same for jobs that are only a checksum; default NATIVE_CHECKSUM_OFFLOAD_BYTES_MIN when the
   * native addon is loaded, else `offloadBytesMin`.
   */
  checksumOffloadBytesMin?: number;
  log?: (line: string) => void;
  /** Nice increment of the worker threads; default POOL_WORKER_NICE_INCREMENT (0: the event loop's priority). */
  niceIncrement?: number;
  /** Where numaTopology reads /sys/devices/system/node; tests give a fake tree. */
  sysfsRoot?: string;
  /** The worker module; default pool-worker. Tests give one that fails to load. */
  workerUrl?: URL;
}

export interface WorkPoolStatus {
  /** Configured threads (0 = inline only). */
  threads: number;
  /** Worker threads alive now (0 until the first offloaded job and after idle ones exit). */
  running: number;
  numaNode: number;
  /** The CPUs workers pin themselves to; empty when the node's CPUs are unknown. */
  cpus: number[];
  /** Workers started so far that pinned themselves / that could not (see `pinReason`). */
  workersPinned: number;
  workersUnpinned: number;
  /** The last worker's pinning outcome in words; undefined before any worker started. */
  pinReason: string | undefined;
  offloadedJobs: number;
  inlineJobs: number;
  /** Why the pool stopped using threads, if it did. */
  failed: string | undefined;
}

/** A job sent to the workers, which the pool settles itself if it fails or closes first. */
interface Pending {
  abandon(reason: Error, inline: boolean): void;
}

export class WorkPool {
  readonly #threads: number;
  readonly #numaNode: number;
  readonly #offloadBytesMin: number;
  readonly #checksumOffloadBytesMin: number;
  readonly #log: (line: string) => void;
  readonly #workerUrl: URL;
  readonly #niceIncrement: number;
  readonly #cpus: number[];
  #piscina: Piscina | undefined;
  readonly #pending = new Set<Pending>();
  #failed: Error | undefined;
  #closed = false;
  #pinned = 0;
  #unpinned = 0;
  #pinReason: string | undefined;
  #offloaded = 0;
  #inline = 0;

  constructor(options: WorkPoolOptions) {
    const { threads } = options;
    if (!Number.isSafeInteger(threads) || threads < 0 || threads > LIMITS.pool.threadsMax) {
      throw new RangeError(`workerThreads must be an integer from 0 to ${LIMITS.pool.threadsMax}, got ${threads}`);
    }
    this.#threads = threads;
    this.#numaNode = options.numaNode ?? 0;
    // At least 1: an empty job never goes to a worker (an empty view is how a moved buffer looks).
    this.#offloadBytesMin = Math.max(1, options.offloadBytesMin ?? LIMITS.pool.offloadBytesMin);
    const checksumDefault = nativeStatus().loaded ? Math.max(NATIVE_CHECKSUM_OFFLOAD_BYTES_MIN, this.#offloadBytesMin) : this.#offloadBytesMin;
    this.#checksumOffloadBytesMin = Math.max(1, options.checksumOffloadBytesMin ?? checksumDefault);
    this.#log = options.log ?? (() => undefined);
    this.#workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.#niceIncrement = options.niceIncrement ?? POOL_WORKER_NICE_INCREMENT;
    this.#cpus = threads === 0 ? [] : nodeCpus(this.#numaNode, options.sysfsRoot, this.#log);
  }

  /** A pool without threads: every job inline. */
  static inline(): WorkPool {
    return new WorkPool({ threads: 0 });
  }

  get threads(): number {
    return this.#threads;
  }

  /**
   * Checks a put page against its declared crc32c, converts it when asked, checksums the result.
   * `owned`: the caller holds the only reference to `job.data`'s whole ArrayBuffer, so it may be
   * moved to a worker; after the call the caller must use only the result's `data`.
   */
  preparePut(job: Omit<PreparePutJob, 'kind'>, owned: boolean): Promise<PreparePutResult> {
    return this.#run({ ...job, kind: 'prepare-put' }, owned);
  }

  /**
   * Whether a preparePut of `bytes` bytes, with a conversion or without, would go to a worker now
   * (then a view that is not its whole buffer is copied first; inline, nothing is copied). A
   * caller choosing how to allocate a page asks this; the answer may change by the time it runs
   * (the pool may fail, its queue may fill), which costs that copy, never correctness.
   */
  offloadsPreparePut(bytes: number, converts: boolean): boolean {
    return this.#offloadable(bytes, this.#bytesMin(!converts));
  }

  /** crc32c of `data` (a snapshot chunk); `owned` as in preparePut: use the result's `data` afterwards. */
  checksum(data: Uint8Array, owned: boolean): Promise<ChecksumResult> {
    return this.#run({ kind: 'checksum', data }, owned);
  }

  status(): WorkPoolStatus {
    return {
      threads: this.#threads,
      running: this.#piscina?.threads.length ?? 0,
      numaNode: this.#numaNode,
      cpus: [...this.#cpus],
      workersPinned: this.#pinned,
      workersUnpinned: this.#unpinned,
      pinReason: this.#pinReason,
      offloadedJobs: this.#offloaded,
      inlineJobs: this.#inline,
      failed: this.#failed?.message,
    };
  }

  /** Stops the threads. Jobs sent to them and not finished are rejected; later jobs run inline. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    const piscina = this.#piscina;
    this.#piscina = undefined;
    this.#abandonPending(new Error('the work pool was closed'), false);
    if (piscina !== undefined) await piscina.destroy();
  }

  async #run<J extends PoolJob>(job: J, owned: boolean): Promise<PoolJobResult<J>> {
    const piscina = this.#target(job.data.byteLength, this.#bytesMin(job.kind === 'checksum' || job.conversion === undefined));
    if (piscina === undefined) {
      this.#inline++;
      return runJob(job);
    }
    // new Uint8Array(view) copies exactly the view's bytes (Buffer#slice would not copy at all).
    const data = owned && wholeArrayBuffer(job.data) ? job.data : new Uint8Array(job.data);
    this.#offloaded++;
    return this.#offload(piscina, { ...job, data });
  }

  /** The size from which a job goes to a worker: a checksum alone, or a job that converts too. */
  #bytesMin(checksumOnly: boolean): number {
    return checksumOnly ? this.#checksumOffloadBytesMin : this.#offloadBytesMin;
  }

  /** Whether a job of `bytes` would go to a worker, the queue's room apart. */
  #offloadable(bytes: number, bytesMin: number): boolean {
    return this.#threads > 0 && !this.#closed && this.#failed === undefined && bytes >= bytesMin;
  }

  /** The pool to send a job of `bytes` to, or undefined to run it inline. */
  #target(bytes: number, bytesMin: number): Piscina | undefined {
    if (!this.#offloadable(bytes, bytesMin)) return undefined;
    const piscina = (this.#piscina ??= this.#start());
    return piscina.queueSize >= LIMITS.pool.queueJobsMax ? undefined : piscina;
  }

  #start(): Piscina {
    const workerData: PoolWorkerData = { cpus: this.#cpus };
    const execArgv = workerExecArgv(this.#workerUrl);
    const piscina = new Piscina({
      filename: this.#workerUrl.href,
      minThreads: 0,
      maxThreads: this.#threads,
      idleTimeout: LIMITS.pool.idleTimeoutMs,
      maxQueue: LIMITS.pool.queueJobsMax,
      concurrentTasksPerWorker: 1,
      atomics: 'sync',
      niceIncrement: this.#niceIncrement,
      closeTimeout: POOL_CLOSE_TIMEOUT_MS,
      recordTiming: false,
      workerHistogram: false,
      workerData,
      ...(execArgv !== undefined ? { execArgv } : {}),
    });
    piscina.on('message', (message: unknown) => this.#onWorkerMessage(message));
    // Without a listener an 'error' event would crash the process. It comes when a worker fails
    // outside any job (most often: it cannot load its module); piscina then stops starting
    // workers and leaves queued jobs waiting, so the pool fails them and goes inline.
    piscina.on('error', (error: Error) => this.#fail(error));
    return piscina;
  }

  #onWorkerMessage(message: unknown): void {
    const ready = message as PoolWorkerReady;
    if (typeof ready !== 'object' || ready === null || ready.type !== POOL_WORKER_READY) return;
    if (ready.pinned) this.#pinned++;
    else this.#unpinned++;
    if (ready.reason !== this.#pinReason) this.#log(`work pool: worker thread ${ready.threadId} ${ready.pinned ? '' : 'not pinned: '}${ready.reason}`);
    this.#pinReason = ready.reason;
  }

  #fail(error: Error): void {
    if (this.#failed !== undefined) return;
    this.#failed = error;
    this.#log(`work pool: its worker threads failed (${error.message}); running every job inline from now on`);
    const piscina = this.#piscina;
    this.#piscina = undefined;
    this.#abandonPending(new Error(`the work pool failed: ${error.message}`, { cause: error }), true);
    void piscina?.destroy().catch(() => undefined);
  }

  /**
   * Runs `job` in a worker. When the pool fails first, a job still queued (piscina moves a job's
   * bytes to a worker only when it posts it, so a queued one still has them) runs inline instead;
   * one already in a worker is rejected with the reason, and so is every job when the pool closes.
   */
  #offload<J extends PoolJob>(piscina: Piscina, job: J): Promise<PoolJobResult<J>> {
    const bytes = job.data.byteLength;
    return new Promise<PoolJobResult<J>>((resolve, reject) => {
      const pending: Pending = {
        abandon: (reason, inline) => {
          if (!inline || job.data.byteLength !== bytes) return reject(reason);
          this.#inline++;
          try {
            return resolve(runJob(job));
          } catch (error) {
            return reject(error as Error);
          }
        },
      };
      this.#pending.add(pending);
      const run = piscina.run(job, { transferList: [job.data.buffer as ArrayBuffer] }) as Promise<PoolJobResult<J>>;
      run.then(resolve, reject).finally(() => this.#pending.delete(pending));
    });
  }

  #abandonPending(reason: Error, inline: boolean): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const job of pending) job.abandon(reason, inline);
  }
}

function wholeArrayBuffer(data: Uint8Array): boolean {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

/**
 * src/workers/pool-worker (or dist/workers/), with this file's extension (.ts when run from
 * source). Named through the folder so that a bundle of this code two folders below the root
 * (dist/bundle, scripts/build-dist.mjs) finds it too.
 */
function defaultWorkerUrl(): URL {
  return new URL(`../workers/pool-worker${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url);
}

/** An execArgv entry that already loads TypeScript: `--import tsx`, tsx by path, ts-node, tap's plugin. */
const TS_LOADER_ARGUMENT = /(^|[=/])(tsx|ts-node)($|[/])|@tapjs\/typescript/;

/**
 * Arguments for the workers' Node.js, or undefined to inherit the parent's. A worker inherits
 * the parent's execArgv, so a TypeScript loader given there (`node --import tsx`, tap's) loads
 * the .ts worker too; a loader registered at run time with module.register() (what bin/kvc.js
 * does through tsx's API) is not inherited, so then tsx is added explicitly, by its resolved
 * URL so that it loads whatever the working directory.
 */
function workerExecArgv(workerUrl: URL): string[] | undefined {
  if (!workerUrl.pathname.endsWith('.ts')) return undefined;
  if (process.execArgv.some((argument) => TS_LOADER_ARGUMENT.test(argument))) return undefined;
  return [...withoutEval(process.execArgv), '--import', import.meta.resolve('tsx')];
}

/** Options that take the next argument as their value. */
const EVAL_OPTIONS: ReadonlySet<string> = new Set(['-e', '--eval', '-p', '--print']);

/**
 * `args` without the options that describe the main script given on the command line (`node -e
 * CODE`, `--input-type`): a worker refuses them, and they are about the main thread anyway.
 */
function withoutEval(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const argument = args[i]!;
    if (EVAL_OPTIONS.has(argument)) i++;
    else if (!/^--(eval|print|input-type)(=|$)/.test(argument)) kept.push(argument);
  }
  return kept;
}

/** The CPUs of NUMA node `numaNode`; empty (workers stay unpinned) when it is unknown. */
function nodeCpus(numaNode: number, sysfsRoot: string | undefined, log: (line: string) => void): number[] {
  try {
    const node = numaTopology(sysfsRoot).find((n) => n.id === numaNode);
    if (node !== undefined) return node.cpus;
    log(`work pool: NUMA node ${numaNode} not found; worker threads stay unpinned`);
  } catch (error) {
    log(`work pool: cannot read the NUMA topology (${(error as Error).message}); worker threads stay unpinned`);
  }
  return [];
}
