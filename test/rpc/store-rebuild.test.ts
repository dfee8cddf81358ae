// Proves the rebuild of a damaged store (src/node/store-recovery.ts) on three real in-process
// members over gRPC on 127.0.0.1: a follower is stopped, a byte of its LevelDB's CURRENT file is
// flipped (LevelDB then refuses to open: "Corruption"), and it is started again. It must not
// crash-loop: it moves the store and WAL aside (kept once for forensics), keeps its term and
// vote, rejoins as an empty follower, receives a snapshot from the leader (whose log is compacted
// so it cannot send entries) and ends with the leader's digest, serving the page that was put.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { crc32c } from '../../src/codec/index.js';
import { NS, RawClient, eventually, pageKey, putPages, startCluster, u8Page } from './helpers.js';

const PAGES = 12;
const BYTES = 8 * 1024;

t.test('a member whose LevelDB cannot open rejoins by snapshot with the same digest', async (t) => {
  const cluster = await startCluster([1, 2, 3], { node: { tickMs: 10, fsync: false, compaction: { entries: 4, keepEntries: 0 } } });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const writer = new RawClient(leader.address);
  t.teardown(() => writer.close());
  for (let i = 0; i < PAGES; i++) await putPages(writer, [u8Page(i, BYTES)]);
  const follower = cluster.followers()[0]!;
  await eventually(async () => (await follower.node.digest()) === (await leader.node.digest()), 10_000, 'the follower caught up');
  const termBefore = follower.node.status().term;
  await follower.stop();

  const dataDir = path.join(cluster.root, `m${follower.id}`);
  const current = path.join(dataDir, 'store', 'CURRENT');
  const bytes = readFileSync(current);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x41; // the newline: "CURRENT file does not end with newline"
  writeFileSync(current, bytes);

  const restarted = await cluster.start(follower.id);
  await eventually(async () => (await restarted.node.digest()) === (await leader.node.digest()), 15_000, 'the rebuilt member has the digest of the leader');
  const logs = cluster.logs.join('\n');
  t.match(logs, new RegExp(`member ${follower.id}: STORE DAMAGED, REBUILDING FROM THE LEADER: LevelDB refuses to open: Corruption`));
  t.match(logs, new RegExp(`snapshot to ${follower.id} installed`), 'it caught up by snapshot');
  t.ok(restarted.node.status().term >= termBefore, 'its term was kept');
  const aside = readdirSync(dataDir).filter((name) => name.startsWith('store.damaged-'));
  t.equal(aside.length, 1, 'the damaged store is kept once');
  t.ok(existsSync(path.join(dataDir, aside[0]!, 'store', 'CURRENT')) && existsSync(path.join(dataDir, aside[0]!, 'wal')), 'store and WAL kept for forensics');

  const page = await restarted.node.getPage(NS, pageKey(PAGES - 1));
  t.equal(page === undefined ? undefined : crc32c(page.data), crc32c(u8Page(PAGES - 1, BYTES).data), 'it serves the page that was put');
});
