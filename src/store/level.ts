// Opening the LevelDB database under a page store, with every option spelled out (CONVENTIONS:
// pass options to libraries explicitly).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LIMITS } from '../limits.js';
import { checkTables } from './table-check.js';

/** Keys and values are plain bytes (Uint8Array) both ways. */
export type StoreDb = ClassicLevel<Uint8Array, Uint8Array>;

export async function openLevel(dir: string, create: { createIfMissing: boolean; errorIfExists: boolean }): Promise<StoreDb> {
  // Table blocks first: LevelDB would read a damaged one without checking it (table-check.ts).
  // Before the database is made: abstract-level opens a new database by itself a microtask later,
  // so one made first was left opening, never closed, holding the LOCK of a store refused as
  // damaged, and writing into whatever directory then had its path (the rebuild's fresh store,
  // which then failed to open: a chaos run's bit-rot in a table).
  const damage = await checkTables(dir);
  if (damage !== undefined) throw new StoreDamagedError(`LevelDB ${damage} in ${dir}`);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
    keyEncoding: 'view',
    valueEncoding: 'view',
    createIfMissing: create.createIfMissing,
    errorIfExists: create.errorIfExists,
    // Payloads are fp16 tensors that Snappy cannot shrink; compressing them only burns CPU.
    compression: false,
    cacheSize: LIMITS.store.levelCacheBytes,
    writeBufferSize: LIMITS.store.levelWriteBufferBytes,
    maxFileSize: LIMITS.store.levelMaxFileBytes,
    blockSize: LIMITS.store.levelBlockBytes,
    maxOpenFiles: LIMITS.store.levelMaxOpenFiles,
    multithreading: false,
  });
  try {
    await db.open();
  } catch (error) {
    throw damageOf(error) ?? error;
  }
  // classic-level 3 exposes neither paranoid_checks nor verify_checksums, so LevelDB recovers its
  // .log past a record that fails its checksum by dropping it (and every record after it in that
  // block) and says so only in its info log, which it starts afresh at each open. A dropped
  // record is a lost batch of applied commands: the store no longer matches its applied index.
  const info = await readFile(path.join(dir, 'LOG'), 'utf8').catch(() => '');
  const dropped = /[^\n]*dropping \d+ bytes[^\n]*/.exec(info);
  if (dropped !== null) {
    await db.close();
    throw new StoreDamagedError(`LevelDB dropped records of its log while opening ${dir}: ${dropped[0].trim()}`);
  }
  return db;
}

/**
 * A store whose files are damaged (bit rot, a lost file) or whose records contradict each other:
 * it cannot be trusted and must be rebuilt (ClusterNode.start replaces it by a snapshot from the
 * leader). Never thrown for a store that is merely busy (LOCK held), full or unreadable by
 * permissions: those are not repaired by throwing the store away.
 */
export class StoreDamagedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreDamagedError';
  }
}

/** The StoreDamagedError an open failure stands for, or undefined when it is not damage. */
function damageOf(error: unknown): StoreDamagedError | undefined {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const message = typeof cause?.message === 'string' ? cause.message : '';
  // A checksum mismatch in the MANIFEST, a CURRENT without its newline, a bad table footer.
  if (code === 'LEVEL_CORRUPTION') return new StoreDamagedError(`LevelDB refuses to open: ${message}`, { cause: error });
  // CURRENT names a MANIFEST that does not exist (a flipped byte in its name), or a file the
  // MANIFEST lists is gone: the database's own files disagree.
  if (code === 'LEVEL_IO_ERROR' && /(MANIFEST-|\.ldb|\.sst|\.log)[^:]*: No such file or directory/.test(message)) {
    return new StoreDamagedError(`LevelDB refuses to open: ${message}`, { cause: error });
  }
  return undefined;
}
