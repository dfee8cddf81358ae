// Proves that a member's puts survive a power loss although their blob payloads are appended
// without an fdatasync of their own (src/node/wal-payload-repair.ts): the WAL made each put
// durable, the store's flush before every WAL compaction syncs the blob files and records the
// blob mark, and at the next start every payload past the mark that did not reach the disk is
// rewritten from the WAL. The power loss hits every member at once (all on one host), so no peer
// has a good copy to give: the WAL alone must do it. Real WALs and LevelDBs, fsync on. The
// members here append payloads to blob files (payloadsInWal off); with the value log on they
// keep them in their WAL segments, which a power loss cannot take (test/node/value-log.test.ts).
import t from 'tap';
import { readdir, stat } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import path from 'node:path';
import { blobDir, encodeBlobMark } from '../../src/store/blob/index.js';
import { BLOB_MARK_KEY } from '../../src/store/keys.js';
import { loseUnsyncedBlobs, readBlobMark } from '../power-loss.js';
import { NS, makeCluster, pageBytes, pageKey, putCommand, putWithRetry, eventually, readOutcome } from './helpers.js';

/** Above LIMITS.store.blobThresholdBytes: every payload goes to a blob file. */
const BYTES = 80 * 1024;

for (const shape of [
  { name: 'before any WAL compaction', pages: 8, compaction: {} },
  { name: 'across WAL compactions (flushes and marks between the puts)', pages: 24, compaction: { entries: 5, keepEntries: 0, keepBytes: 0 } },
] as const) {
  t.test(`every acknowledged page survives a power loss of every member, ${shape.name}`, async (t) => {
    const logs: string[] = [];
    const cluster = await makeCluster([1, 2, 3], { fsync: true, payloadsInWal: false, compaction: shape.compaction, logger: (line) => logs.push(line) });
    t.teardown(() => cluster.stopAll());
    for (let i = 0; i < shape.pages; i++) await putWithRetry(cluster, putCommand(i, BYTES));
    const applied = async (): Promise<boolean> => {
      const indexes = [...cluster.nodes.values()].map((n) => n.status().appliedIndex);
      return indexes.every((index) => index === indexes[0]);
    };
    await eventually(applied, 10_000, 'every member applied every put');
    const compactions = logs.filter((line) => line.includes('compacted the WAL')).length;
    if (shape.pages > 8) t.ok(compactions > 0, `the WAL was compacted ${compactions} time(s) on the way`);

    // A power loss: the members die (a clean stop would flush everything first)...
    for (const node of cluster.nodes.values()) await node.crash();
    // ...and the blob bytes past each one's mark never reached the disk.
    const marks: { fileId: number; size: number }[] = [];
    for (const id of [1, 2, 3]) {
      const store = path.join(cluster.dirs.get(id)!, 'store');
      const mark = await readBlobMark(store);
      await loseUnsyncedBlobs(store, id === 2 ? 'zero' : 'cut', mark);
      marks.push(mark ?? { fileId: -1, size: -1 });
    }

    for (const id of [1, 2, 3]) await cluster.start(id, { compaction: shape.compaction });
    await cluster.waitForLeader();
    for (const node of cluster.nodes.values()) {
      for (let i = 0; i < shape.pages; i++) {
        const page = await node.getPage(NS, pageKey(i));
        t.ok(page !== undefined && Buffer.compare(page.data, pageBytes(i, BYTES)) === 0, `member ${node.id}: page ${i} reads back whole`);
      }
    }
    const repairs = logs.filter((line) => /blob payload\(s\) written after the last blob sync did not read back/.test(line));
    if (shape.pages > 8) {
      // A member whose last compaction came after its last put has nothing past its mark.
      t.ok(repairs.length >= 1, `${repairs.length} member(s) found payloads past their mark at start`);
      t.ok(marks.some((mark) => mark.fileId > 0), `flushes recorded marks past the start (${JSON.stringify(marks)})`);
    } else {
      t.equal(repairs.length, 3, 'each member found payloads past its mark at start');
      t.same(marks, [0, 0, 0].map(() => ({ fileId: 0, size: 0 })), 'no flush yet: the marks vouch for nothing');
    }
    for (const line of repairs) t.match(line, /\d+ rewritten from the WAL$/, `all rewritten from the WAL, none left: ${line}`);

    // A clean stop flushes: its mark is the end of its blob files, so the next start checks nothing.
    await cluster.nodes.get(1)!.stop();
    const store = path.join(cluster.dirs.get(1)!, 'store');
    const files = (await readdir(blobDir(store))).sort();
    const last = files.at(-1)!;
    t.same(await readBlobMark(store), { fileId: Number(last.slice(0, -'.blob'.length)), size: (await stat(path.join(blobDir(store), last))).size }, 'after a clean stop the mark is at the end of the blob files');
  });
}

t.test('a damaged payload the WAL no longer holds is left to the peers and never served', async (t) => {
  const logs: string[] = [];
  const compaction = { entries: 5, keepEntries: 0, keepBytes: 0 };
  const cluster = await makeCluster([1, 2, 3], { fsync: true, payloadsInWal: false, compaction, logger: (line) => logs.push(line) });
  t.teardown(() => cluster.stopAll());
  const PAGES = 16;
  for (let i = 0; i < PAGES; i++) await putWithRetry(cluster, putCommand(i, BYTES));
  const victim = cluster.nodes.get(3)!;
  await eventually(async () => victim.status().appliedIndex >= (await cluster.waitForLeader()).status().appliedIndex, 10_000, 'member 3 caught up');
  await eventually(async () => victim.status().walFirstIndex > 1, 10_000, 'member 3 compacted its WAL');
  await victim.crash();
  // Its mark set back to nothing, as if it had never flushed: every page is checked at open, and
  // the WAL, compacted since, no longer holds the early puts.
  const store = path.join(cluster.dirs.get(3)!, 'store');
  const db = new ClassicLevel<Uint8Array, Uint8Array>(store, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.put(BLOB_MARK_KEY, encodeBlobMark({ fileId: 0, size: 0 }));
  await db.close();
  await loseUnsyncedBlobs(store, 'cut', { fileId: 0, size: 0 });

  const restarted = await cluster.start(3, { compaction });
  const line = logs.find((l) => l.startsWith('member 3: ') && l.includes('did not read back'));
  t.match(line, new RegExp(`^member 3: ${PAGES} blob payload\\(s\\).*: (\\d+) rewritten from the WAL, (\\d+) not in the WAL: not served, left to the payload repair from peers$`), 'the early pages are left to the peers');
  const left = Number(/(\d+) not in the WAL/.exec(line ?? '')?.[1] ?? 0);
  let refused = 0;
  for (let i = 0; i < PAGES; i++) {
    const read = await readOutcome(restarted, i, BYTES);
    t.ok(read === 'whole' || read === 'refused', `page ${i}: ${read}, never wrong bytes`);
    if (read === 'refused') refused++;
  }
  t.equal(refused, left, 'exactly the pages left to the peers are refused until they are repaired');
});
