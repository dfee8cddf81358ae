// One thread of the work pool (pool.ts), loaded by piscina. At start it pins itself to the CPUs
// pool.ts chose (those of the arena's NUMA node), so conversions read and write memory local to
// that node, and tells the pool whether that worked. Then it runs jobs (pool-jobs.ts) and hands
// the buffers of their results back by transfer, not by copy.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { setThreadAffinity } from '../native/index.js';
import { POOL_WORKER_READY, runJob, type PoolJob, type PoolWorkerData, type PoolWorkerReady } from './pool-jobs.js';

function pin(cpus: number[]): PoolWorkerReady {
  if (cpus.length === 0) return { type: POOL_WORKER_READY, threadId, pinned: false, reason: 'no CPUs known for the NUMA node' };
  try {
    const pinned = setThreadAffinity(cpus);
    return { type: POOL_WORKER_READY, threadId, pinned, reason: pinned ? `pinned to CPUs ${cpus.join(',')}` : 'thread affinity is not available (no native addon)' };
  } catch (error) {
    return { type: POOL_WORKER_READY, threadId, pinned: false, reason: `setThreadAffinity failed: ${(error as Error).message}` };
  }
}

// Piscina's own messages travel on a separate port; anything posted here reaches the pool's
// 'message' event, which is how pool.ts learns about each worker.
parentPort?.postMessage(pin((workerData as PoolWorkerData).cpus));

/** A result whose payload buffer goes back to the caller by transfer (the worker keeps nothing). */
function transferring(value: object, buffer: ArrayBufferLike | undefined): unknown {
  if (buffer === undefined || !(buffer instanceof ArrayBuffer)) return value;
  return move({
    get [transferableSymbol]() {
      return [buffer];
    },
    get [valueSymbol]() {
      return value;
    },
  });
}

export default function poolWorker(job: PoolJob): unknown {
  const result = runJob(job);
  return 'data' in result ? transferring(result, result.data.buffer) : result;
}
