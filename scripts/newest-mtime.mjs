// The newest modification time of the files under a folder: what scripts/build-dist.mjs stamps
// and what bin/kvc.js compares with the stamp on every call. A module of its own, with nothing but
// node:fs and node:path, so the check costs `kvc` no more than the walk (build-dist.mjs loads
// child_process and the like, ~13 ms of CPU at each start).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The newest mtime (ms) of the files under `dir`. */
export function newestMtimeMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}
