// Rebuilding a member whose page store is damaged (StoreDamagedError: LevelDB refuses to open,
// dropped records of its log, records that do not load) by a snapshot from the leader, instead of
// crash-looping on it.
//
// The store is the state machine through the WAL's snapshot index; without it the WAL's log and
// snapshot metadata describe state the member no longer has. So both are dropped and the member
// restarts as an empty follower that keeps only its HardState term and vote (dropping those would
// let it vote twice in one term). Its log is empty, so the leader finds it behind its first index
// and sends a snapshot (src/node/snapshot-transfer.ts), or the whole log when it still has it.
//
// SAFETY: the member forgets entries it had acknowledged. That is a disk loss, and Raft tolerates
// it on a minority only: if a majority lost their stores at once, a committed entry could be on
// no surviving log and a new leader could overwrite it. The rebuild is logged loudly (an
// operator should check that it is rare and never simultaneous on several members).
//
// Crash safety, in this order:
//   1. the damaged `store` (with its blobs) → `store.damaged-<time>/store` (forensics; only the
//      latest damaged copy is kept). A crash now leaves no store and the old WAL: start treats a
//      missing store under a non-empty WAL as damage (storeMissingUnderLog) and rebuilds again.
//   2. a new WAL holding only the HardState {term, vote, commit 0} is written to `wal.rebuild`.
//   3. `wal` → `store.damaged-<time>/wal`, then `wal.rebuild` → `wal`. A crash between the two
//      leaves `wal.rebuild` alone: finishWalSwap completes the rename before the WAL opens (an
//      empty WAL would make the member bootstrap with term 0 and forget its vote).
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { StoreDamagedError } from '../store/index.js';
import type { Wal } from '../wal/index.js';

export const DAMAGED_STORE_PREFIX = 'store.damaged-';
const WAL_REBUILD = 'wal.rebuild';

/** Completes a WAL swap a crash interrupted (step 3 above); call before opening the WAL. */
export async function finishWalSwap(dataDir: string): Promise<void> {
  const rebuilt = path.join(dataDir, WAL_REBUILD);
  if (!existsSync(rebuilt)) return;
  if (existsSync(path.join(dataDir, 'wal'))) await rm(rebuilt, { recursive: true, force: true }); // crash before the swap: redone
  else await rename(rebuilt, path.join(dataDir, 'wal'));
}

/**
 * True when the store is gone (and no snapshot install is half-way: its own recovery handles
 * that) while the WAL holds entries or a snapshot: the state they stand on is lost.
 */
export function storeMissingUnderLog(dataDir: string, wal: Wal): boolean {
  const store = path.join(dataDir, 'store');
  if (existsSync(store) || existsSync(`${store}.old`) || existsSync(`${store}.incoming`)) return false;
  return wal.lastIndex() > 0 || wal.snapshot().metadata.index > 0;
}

/**
 * Moves the damaged store and the WAL aside and returns a new, empty WAL (opened by `openWal`)
 * that keeps `wal`'s term and vote. `wal` is closed.
 */
export async function rebuildDamagedStore(o: {
  id: number;
  dataDir: string;
  wal: Wal;
  damage: StoreDamagedError;
  openWal: (dir: string) => Promise<Wal>;
  log: (line: string) => void;
  /** The initial voters of the member's config: the membership while the WAL has no snapshot. */
  initialVoters: number[];
}): Promise<Wal> {
  const { hardState, confState } = o.wal.initialState();
  const { term, vote } = hardState;
  const voters = confState.voters.length > 0 ? confState.voters : o.initialVoters;
  if (voters.length === 1 && voters[0] === o.id) {
    // No leader could ever send it a snapshot: the data is gone with the store. Refuse, loudly.
    throw new StoreDamagedError(`${o.damage.message}; member ${o.id} is the only voter, so no leader can rebuild it: restore its data directory from a backup`, { cause: o.damage });
  }
  const entries = o.wal.lastIndex() >= o.wal.firstIndex() ? `entries ${o.wal.firstIndex()} to ${o.wal.lastIndex()}` : 'no entries';
  const lost = `its log (${entries}) and snapshot metadata (index ${o.wal.snapshot().metadata.index})`;
  await o.wal.close();
  const aside = path.join(o.dataDir, `${DAMAGED_STORE_PREFIX}${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const store = path.join(o.dataDir, 'store');
  if (existsSync(store)) {
    for (const name of await readdir(o.dataDir)) {
      if (name.startsWith(DAMAGED_STORE_PREFIX)) await rm(path.join(o.dataDir, name), { recursive: true, force: true });
    }
    await mkdir(aside, { recursive: true });
    await rename(store, path.join(aside, 'store'));
  } else {
    await mkdir(aside, { recursive: true });
  }
  const rebuilt = path.join(o.dataDir, WAL_REBUILD);
  await rm(rebuilt, { recursive: true, force: true });
  const fresh = await o.openWal(rebuilt);
  await fresh.setHardState({ term, vote, commit: 0 });
  await fresh.close();
  await rename(path.join(o.dataDir, 'wal'), path.join(aside, 'wal'));
  await rename(rebuilt, path.join(o.dataDir, 'wal'));
  o.log(
    `member ${o.id}: STORE DAMAGED, REBUILDING FROM THE LEADER: ${o.damage.message}. The store and WAL are kept in ${aside}; ` +
      `the member drops ${lost}, keeps term ${term} and vote ${vote}, and rejoins as an empty follower that the leader ` +
      `sends a snapshot. It forgets entries it acknowledged: safe only while a minority of members does this at once (a disk loss).`,
  );
  return o.openWal(path.join(o.dataDir, 'wal'));
}
