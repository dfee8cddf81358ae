// The public surface of src/wal: the Raft log on disk (docs/WAL.md). Other folders import only
// this file.
export { Wal } from './wal.js';
export type { EntryDataLocation, WalOptions, SaveBatch, WalStats } from './wal.js';
export { WalCorruptionError, WalFailedError, WAL_CORRUPT_CODE, WAL_FAILED_CODE } from './errors.js';
export { NodeFileLayer, nodeFileLayer, bufferedFileLayer } from './file-layer.js';
export type { FileLayer, OpenMode } from './file-layer.js';
export {
  FaultInjectingFileLayer,
  SimulatedCrashError,
  SIMULATED_CRASH_CODE,
} from './fault-injecting-file-layer.js';
export type { SyncRecord, TearPoint, WriteRecord } from './fault-injecting-file-layer.js';
export { segmentName } from './segment.js';
export { RECORD_HEADER_BYTES, RecordType } from './record.js';
