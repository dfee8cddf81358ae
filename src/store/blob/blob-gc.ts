// Blob GC: gives back the space of deleted, evicted and dropped payloads. It picks one full
// (non-active) blob file whose live fraction is below the threshold, copies its live payloads to
// the active file (outside the apply queue, at most `bytesPerSecond`), syncs them, then rewrites
// their refs in one small batch *inside* the apply queue — only where a ref still points at the
// old place, so a delete or eviction applied meanwhile wins and the copy is just garbage — and
// finally retires the old file, which BlobFiles deletes once no read or snapshot stream that may
// hold one of its refs is still running.

import { familyRange, FAMILY_BLOB } from '../keys.js';
import type { StoreDb } from '../level.js';
import type { BlobFiles } from './blob-files.js';
import { decodeBlobRef, encodeBlobRef, sameBlobRef } from './blob-ref.js';
import type { BlobRef } from './blob-ref.js';

/** Payload bytes copied before their refs are rewritten: bounds the memory one step holds. */
const GC_STEP_BYTES = 16 * 1024 * 1024;

export interface GcContext {
  db: StoreDb;
  blobs: BlobFiles;
  liveRatio: number;
  bytesPerSecond: number;
  /** Runs `fn` in the store's apply queue, ordered with applies. */
  queued<T>(fn: () => Promise<T>): Promise<T>;
  /** True once the store is closing: stop between steps. */
  stopped(): boolean;
}

interface Move {
  key: Uint8Array;
  from: BlobRef;
}

/** Collects one file; false when no file qualifies (or the store is closing). */
export async function collectOneFile(gc: GcContext): Promise<boolean> {
  const victim = gc.blobs.gcCandidate(gc.liveRatio);
  if (victim === undefined) return false;
  // Pinned so the refs found below stay readable while they are copied.
  const epoch = gc.blobs.pin();
  try {
    const moves = await refsInto(gc.db, victim.id);
    let step: Move[] = [];
    let stepBytes = 0;
    for (const move of moves) {
      step.push(move);
      stepBytes += move.from.length;
      if (stepBytes < GC_STEP_BYTES) continue;
      if (gc.stopped()) return false;
      await moveStep(gc, step);
      step = [];
      stepBytes = 0;
    }
    if (step.length > 0) await moveStep(gc, step);
  } finally {
    gc.blobs.unpin(epoch);
    // Retired at once below (nothing runs in between), after which it takes no refs either.
    gc.blobs.collectionEnded(victim.id);
  }
  gc.blobs.retire(victim.id);
  gc.blobs.gcRuns++;
  return true;
}

/** Every committed ref into file `fileId`. New refs only go to the active file, so this set only shrinks. */
async function refsInto(db: StoreDb, fileId: number): Promise<Move[]> {
  const moves: Move[] = [];
  for await (const [key, value] of db.iterator({ ...familyRange(FAMILY_BLOB), fillCache: false })) {
    const from = decodeBlobRef(value);
    if (from.fileId === fileId) moves.push({ key, from });
  }
  return moves;
}

/** Copies one step's payloads (verified on read), syncs them, then swaps the refs in the apply queue. */
async function moveStep(gc: GcContext, step: Move[]): Promise<void> {
  const startedMs = performance.now();
  const payloads = [];
  for (const { from } of step) payloads.push({ data: await gc.blobs.read(from), crc32c: from.crc32c });
  // Always synced: the old file is deleted once the refs move, so the copies must be on disk first.
  const to = await gc.blobs.append(payloads, true);
  await gc.queued(async () => {
    const current = await gc.db.getMany(step.map((m) => m.key), { fillCache: false });
    const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
    const moved: number[] = [];
    step.forEach((move, i) => {
      const value = current[i];
      if (value === undefined || !sameBlobRef(decodeBlobRef(value), move.from)) return; // deleted or moved meanwhile
      ops.push({ type: 'put', key: move.key, value: encodeBlobRef(to[i]!) });
      moved.push(i);
    });
    // Synced even on a member that applies unsynced: the old file goes next and must not be needed.
    if (ops.length > 0) await gc.db.batch(ops, { sync: true });
    for (const i of moved) {
      gc.blobs.addLive(to[i]!);
      gc.blobs.dropLive(step[i]!.from);
    }
  });
  const bytes = payloads.reduce((sum, p) => sum + p.data.byteLength, 0);
  const dueMs = (bytes / gc.bytesPerSecond) * 1000 - (performance.now() - startedMs);
  if (dueMs > 0) await new Promise((resolve) => setTimeout(resolve, dueMs));
}
