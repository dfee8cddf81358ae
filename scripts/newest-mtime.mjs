// The newest modification time of the files under a folder: what scripts/build-dist.mjs stamps
// and what bin/kvc.js compares with the stamp on every call. A module of its own, with nothing but
// node:fs, so the check costs `kvc` no more than the walk (build-dist.mjs loads child_process and
// the like, ~13 ms of CPU at each start). The walk recurses by hand: readdirSync's `recursive`
// option with node:path joins took 11-12 ms of a call here, this 7.5-8 ms (300 files, idle VM).
import { readdirSync, statSync } from 'node:fs';

/** The newest mtime (ms) of the files under `dir`. */
export function newestMtimeMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(file));
    else if (entry.isFile()) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}
