// The public surface of src/workers: the member's work pool (piscina threads) and its jobs, the
// CPU-heavy steps of puts and snapshots (checksums, dtype conversion). It sits above src/codec,
// whose functions the jobs run, and src/native, whose thread affinity the workers use; neither
// imports it, so loading the codec never loads piscina.
export {
  WorkPool,
  defaultWorkerThreads,
  DEFAULT_WORKER_THREADS_MAX,
  NATIVE_CHECKSUM_OFFLOAD_BYTES_MIN,
  POOL_WORKER_NICE_INCREMENT,
  type WorkPoolOptions,
  type WorkPoolStatus,
} from './pool.js';
export { convert, preparePut, runJob, storeConversion, type PoolJob, type PreparePutJob, type PreparePutResult, type StoreConversion } from './pool-jobs.js';
