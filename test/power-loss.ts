// A power loss, played on a closed store's files: a process crash leaves everything it wrote in
// the page cache, a power loss takes what was not fdatasynced. For the blob files that is every
// byte past the store's blob mark (src/store/blob/blob-files.ts BlobMark), cut off or zeroed.
import { open, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { blobDir, decodeBlobMark, type BlobMark } from '../src/store/blob/index.js';
import { BLOB_MARK_KEY } from '../src/store/keys.js';

/** The blob mark recorded in the (closed) store at `storeDir`. */
export async function readBlobMark(storeDir: string): Promise<BlobMark | undefined> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(storeDir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    const [value] = await db.getMany([BLOB_MARK_KEY]);
    return value === undefined ? undefined : decodeBlobMark(value);
  } finally {
    await db.close();
  }
}

/** Every blob byte past `mark` (default: the store's own) gone (`cut`) or zeroed (`zero`). */
export async function loseUnsyncedBlobs(storeDir: string, how: 'cut' | 'zero', mark?: BlobMark): Promise<void> {
  const at = mark ?? (await readBlobMark(storeDir)) ?? { fileId: 0, size: 0 };
  const blobs = blobDir(storeDir);
  for (const name of await readdir(blobs)) {
    // Appended files only: a WAL segment linked in (`.wal`, the value log) was fdatasynced by the WAL.
    if (!name.endsWith('.blob')) continue;
    const id = Number(name.slice(0, -'.blob'.length));
    const file = join(blobs, name);
    const keep = id < at.fileId ? Infinity : id === at.fileId ? at.size : 0;
    const size = (await stat(file)).size;
    if (keep >= size) continue;
    if (how === 'cut') {
      await truncate(file, keep);
      continue;
    }
    const handle = await open(file, 'r+');
    try {
      await handle.write(new Uint8Array(size - keep), 0, size - keep, keep);
    } finally {
      await handle.close();
    }
  }
}
