// Rewrites from the WAL the blob payloads a power loss took. A member appends page payloads to
// its blob files without an fdatasync of their own (its WAL makes a put durable), and syncs them
// before the WAL drops any entry (PageStore.flush, recording the blob mark). So after a power loss
// every payload appended past the mark was put by an entry the WAL still holds; the store finds
// the ones that do not read back whole at open (PageStore.unsyncedDamage), and each is rewritten
// here from the put that carried it, when the WAL's copy has the crc32c of the page's metadata
// (PageStore.repairPayload checks that again). This runs before the member serves or applies
// anything. A page the WAL cannot give back (not expected: only a bug or a damaged WAL) stays
// unserved and goes to the payload repair from peers, which scrubs every start (member/payload-repair.ts).
import { latin1, pageId, type PageStore } from '../store/index.js';
import { EntryType } from '../raft/index.js';
import type { Wal } from '../wal/index.js';
import { decodeProposal } from './proposal.js';

/** WAL bytes read per step while looking for the damaged pages' puts. */
const READ_STEP_BYTES = 64 * 1024 * 1024;

/** Repairs what `store.unsyncedDamage()` lists from the entries in `wal`; returns how many were repaired and how many were not. */
export async function repairUnsyncedFromWal(o: { id: number; wal: Wal; store: PageStore; log: (line: string) => void }): Promise<{ repaired: number; left: number }> {
  const damage = o.store.unsyncedDamage();
  if (damage.length === 0) return { repaired: 0, left: 0 };
  const wanted = new Map(damage.map((d) => [pageId(d.ns, latin1(d.key)), d]));
  let repaired = 0;
  const last = o.wal.lastIndex();
  for (let lo = o.wal.firstIndex(); lo <= last && wanted.size > 0; ) {
    const entries = o.wal.entries(lo, last + 1, READ_STEP_BYTES);
    for (const entry of entries) {
      if (entry.type !== EntryType.Normal || entry.data.byteLength === 0) continue;
      const { command } = decodeProposal(entry.data);
      if (command.op !== 'put') continue;
      for (const { meta, data } of command.pages) {
        const id = pageId(meta.ns, latin1(meta.key));
        if (wanted.get(id)?.crc32c !== meta.crc32c) continue;
        const outcome = await o.store.repairPayload(meta.ns, meta.key, data);
        // 'gone' (removed since) needs nothing either; 'mismatch' leaves it to the peers.
        if (outcome !== 'mismatch') wanted.delete(id);
        if (outcome === 'repaired') repaired++;
      }
    }
    lo += entries.length;
  }
  const left = wanted.size;
  o.log(
    `member ${o.id}: ${damage.length} blob payload(s) written after the last blob sync did not read back (lost to a power loss before the sync, or damaged since): ` +
      `${repaired} rewritten from the WAL` +
      (left > 0 ? `, ${left} not in the WAL: not served, left to the payload repair from peers` : ''),
  );
  return { repaired, left };
}
