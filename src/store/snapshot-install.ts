// Installing a snapshot stream as a store's new state, and recovering from a crash during the swap.
//
// The stream is written into a fresh database at `${dir}.incoming`, verified as it arrives (chunk
// sequence, crc per chunk, crc over the whole, no record cut short), made durable (the final batch
// is a sync write, which fsyncs LevelDB's log; table files and the manifest are fsynced by LevelDB
// itself) and closed. Only then is it swapped in, with two renames:
//
//   1. `dir` → `${dir}.old`          (skipped when `dir` does not exist: a wiped follower)
//   2. `${dir}.incoming` → `dir`
//   3. remove `${dir}.old`
//
// with an fsync of the parent directory after each rename, so the renames reach the disk in this
// order. On any failure before step 1 the incoming directory is removed and `dir` was never touched.
//
// A crash can leave these states, and `recoverSwap` (run by PageStore.open and before every
// install) resolves each one:
//   - `dir` present, `.incoming` present: the build or the first rename never finished, so `dir`
//     is the authoritative old state; the partial `.incoming` is removed.
//   - `dir` present, `.old` present: the crash came after step 2; `.old` is removed.
//   - `dir` missing, `.old` and `.incoming` present: the crash came between the two renames.
//     `.old` exists only once the incoming database was complete and durable (step 1 comes after
//     the build, and recovery runs before each build so no stale `.old` survives into one), so
//     the swap is finished: `.incoming` → `dir`, then `.old` is removed.
//   - `dir` missing, only `.old` present: not produced by the sequence above; rolled back to `dir`.
//   - `dir` missing, only `.incoming` present: a first install that did not finish; removed, and
//     the store opens empty (applied index 0), so Raft sends the snapshot again.

import { existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LIMITS } from '../limits.js';
import { crc32c } from '../codec/index.js';
import { BlobFiles, encodeBlobRef } from './blob/index.js';
import { APPLIED_INDEX_KEY, FAMILY_BLOB, FAMILY_BLOB_MARK, FAMILY_PAYLOAD, withFamily } from './keys.js';
import { openLevel } from './level.js';
import type { StoreDb } from './level.js';
import { decodeU64, encodeU64 } from './records.js';
import { ChunkReader, SnapshotStreamError, type ChunkChecksums } from './snapshot-stream.js';
import type { SnapshotChunk } from './snapshot-stream.js';

/** Bytes of records gathered before one (unsynced) batch write to the incoming database. */
const INSTALL_BATCH_BYTES = 8 * 1024 * 1024;

export type Logger = (line: string) => void;

async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await fsyncDirectory(dirname(to));
}

/** Brings `dir` to a consistent state after a crash during a swap (see the file comment). */
export async function recoverSwap(dir: string, log: Logger): Promise<void> {
  const old = `${dir}.old`;
  const incoming = `${dir}.incoming`;
  if (!existsSync(dir) && existsSync(old)) {
    if (existsSync(incoming)) {
      log(`store: finishing an interrupted snapshot swap: ${incoming} -> ${dir}`);
      await renameDurably(incoming, dir);
    } else {
      log(`store: restoring ${old} -> ${dir} (no incoming snapshot found)`);
      await renameDurably(old, dir);
    }
  }
  if (existsSync(old)) {
    log(`store: removing ${old} left by a finished snapshot swap`);
    await rm(old, { recursive: true, force: true });
  }
  if (existsSync(incoming)) {
    log(`store: removing the unfinished snapshot ${incoming}`);
    await rm(incoming, { recursive: true, force: true });
  }
}

/**
 * Builds `${dir}.incoming` from `chunks` and swaps it in. The store at `dir` must be closed. An
 * image whose applied index is not above `minAppliedIndex` is verified and then discarded: a
 * member must never move its state machine backwards (it would lose applied entries).
 */
export async function installSnapshot(
  dir: string,
  chunks: AsyncIterable<SnapshotChunk>,
  log: Logger,
  minAppliedIndex = -1,
  checksums?: ChunkChecksums,
): Promise<{ installed: boolean; appliedIndex: number }> {
  await recoverSwap(dir, log);
  const incoming = `${dir}.incoming`;
  const db = await openLevel(incoming, { createIfMissing: true, errorIfExists: true });
  let blobs: BlobFiles | undefined;
  let appliedIndex: number;
  try {
    blobs = await BlobFiles.open(incoming, { fileBytes: LIMITS.store.blobFileBytes });
    appliedIndex = await writeStream(db, blobs, chunks, checksums);
    await blobs.close();
    await db.close();
  } catch (error) {
    await blobs?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    await rm(incoming, { recursive: true, force: true });
    throw error;
  }
  if (appliedIndex <= minAppliedIndex) {
    log(`store: snapshot at applied index ${appliedIndex} is not newer than ours (${minAppliedIndex}); discarded`);
    await rm(incoming, { recursive: true, force: true });
    return { installed: false, appliedIndex };
  }
  log(`store: snapshot at applied index ${appliedIndex} received; swapping it in`);
  const old = `${dir}.old`;
  if (existsSync(dir)) await renameDurably(dir, old);
  await renameDurably(incoming, dir);
  await rm(old, { recursive: true, force: true });
  return { installed: true, appliedIndex };
}

/**
 * What a streamed record becomes here: a large 'p' payload goes to this member's blob file and
 * is indexed by a 'b' ref (so a follower's store is key-value separated too); the rest as is.
 * A 'b' record is a sender's local location and is never valid in a stream.
 */
async function fileRecord(blobs: BlobFiles, key: Uint8Array, value: Uint8Array): Promise<[Uint8Array, Uint8Array]> {
  if (key[0] === FAMILY_BLOB) throw new SnapshotStreamError('stream carries a blob reference instead of the payload');
  if (key[0] === FAMILY_BLOB_MARK) throw new SnapshotStreamError("stream carries the sender's blob mark, a member-local record");
  if (key[0] !== FAMILY_PAYLOAD || value.byteLength < LIMITS.store.blobThresholdBytes) return [key, value];
  // Unsynced: one sync covers the whole image before its final batch.
  const [ref] = await blobs.append([{ data: value, crc32c: crc32c(value) }], false);
  return [withFamily(FAMILY_BLOB, key), encodeBlobRef(ref!)];
}

/** Writes the verified records of `chunks` into `db`; returns the stream's applied index. */
async function writeStream(db: StoreDb, blobs: BlobFiles, chunks: AsyncIterable<SnapshotChunk>, checksums: ChunkChecksums | undefined): Promise<number> {
  const reader = new ChunkReader(checksums);
  let batch = db.batch();
  let batchBytes = 0;
  let recordedIndex: number | undefined;
  for await (const chunk of chunks) {
    for (const { key, value } of await reader.pushAsync(chunk)) {
      if (key.byteLength === 1 && key[0] === APPLIED_INDEX_KEY[0]) {
        recordedIndex = decodeU64(value); // Written last, in the final sync batch.
        continue;
      }
      const [storedKey, storedValue] = await fileRecord(blobs, key, value);
      batch.put(storedKey, storedValue);
      batchBytes += key.byteLength + value.byteLength;
      if (batchBytes >= INSTALL_BATCH_BYTES) {
        await batch.write({ sync: false });
        batch = db.batch();
        batchBytes = 0;
      }
    }
  }
  const appliedIndex = reader.finish();
  // A store that never applied anything has no applied-index record: that is index 0.
  if ((recordedIndex ?? 0) !== appliedIndex) {
    throw new SnapshotStreamError(`stream records applied index ${String(recordedIndex)}, last chunk says ${appliedIndex}`);
  }
  batch.put(APPLIED_INDEX_KEY, encodeU64(appliedIndex));
  // The blob payloads reach the disk before the batch that makes the image complete.
  await blobs.sync();
  // The sync write fsyncs LevelDB's log, which holds every earlier unsynced batch as well.
  await batch.write({ sync: true });
  return appliedIndex;
}
