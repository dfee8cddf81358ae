// Opening the LevelDB database under a page store, with every option spelled out (CONVENTIONS:
// pass options to libraries explicitly).

import { ClassicLevel } from 'classic-level';

const MIB = 1024 * 1024;

/** Keys and values are plain bytes (Uint8Array) both ways. */
export type StoreDb = ClassicLevel<Uint8Array, Uint8Array>;

/** Block cache for metadata blocks (lookups); payload reads and full scans bypass it (fillCache false). */
export const LEVEL_CACHE_BYTES = 32 * MIB;
/** Memtable size. Pages are MiB-sized, so a small memtable would flush after a handful of puts. */
export const LEVEL_WRITE_BUFFER_BYTES = 64 * MIB;
/** Table file size: with MiB-sized values the 2 MiB default would give one file per page or two. */
export const LEVEL_MAX_FILE_BYTES = 32 * MIB;
/** LevelDB's default block size suits the small metadata records; a payload fills its own block. */
export const LEVEL_BLOCK_BYTES = 4096;
export const LEVEL_MAX_OPEN_FILES = 1000;

export async function openLevel(dir: string, create: { createIfMissing: boolean; errorIfExists: boolean }): Promise<StoreDb> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: 'view',
    valueEncoding: 'view',
    createIfMissing: create.createIfMissing,
    errorIfExists: create.errorIfExists,
    // Payloads are fp16 tensors that Snappy cannot shrink; compressing them only burns CPU.
    compression: false,
    cacheSize: LEVEL_CACHE_BYTES,
    writeBufferSize: LEVEL_WRITE_BUFFER_BYTES,
    maxFileSize: LEVEL_MAX_FILE_BYTES,
    blockSize: LEVEL_BLOCK_BYTES,
    maxOpenFiles: LEVEL_MAX_OPEN_FILES,
    multithreading: false,
  });
  await db.open();
  return db;
}
