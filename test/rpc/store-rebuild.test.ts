// Proves how a member treats damaged LevelDB files, on three real in-process members over gRPC on
// 127.0.0.1 (one cluster for the file):
//   1. one record damaged while the member runs: a byte of an inline page payload in a LevelDB
//      table is flipped (LevelDB reads tables without checking block checksums). A GetPages from
//      that member is refused with KVC_CHECKSUM_MISMATCH, never served, and the page is repaired
//      from a peer (src/member/payload-repair.ts).
//   2. damage found at open (src/node/store-recovery.ts): a follower is stopped, a byte of its
//      LevelDB's CURRENT file is flipped (LevelDB then refuses to open: "Corruption"), and it is
//      started again. It must not crash-loop: it moves the store and WAL aside (kept once for
//      forensics), keeps its term and vote, rejoins as an empty follower, receives a snapshot from
//      the leader (whose log is compacted so it cannot send entries) and ends with the leader's
//      digest, serving the pages that were put.
//   3. a store directory gone while the WAL holds entries is damage too (not an empty state
//      under an old log).
// The open-time checks themselves (table block checksums, dropped .log records) are proved on the
// store alone by test/store/level-damage.test.ts.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '../../src/codec/index.js';
import type { GetPagesResponse__Output as GetPagesResponse } from '../../src/rpc/index.js';
import { NS, RawClient, eventually, pageKey, putPages, servedEventually, startCluster, u8Page } from './helpers.js';

const PAGES = 12;
const BYTES = 8 * 1024;
const DAMAGED = 5;

// No memory tier: every read goes to the member's files.
const cluster = await startCluster([1, 2, 3], { node: { tickMs: 10, fsync: false, compaction: { entries: 4, keepEntries: 0 } }, memoryTier: { arenaBytes: 0 } });
t.teardown(() => cluster.stopAll());
const writer = new RawClient((await cluster.leader()).address);
t.teardown(() => writer.close());
for (let i = 0; i < PAGES; i++) await putPages(writer, [u8Page(i, BYTES)]);

t.test('a damaged record in a LevelDB table is refused on read and repaired from a peer', async (t) => {
  const leader = await cluster.leader();
  const first = cluster.followers()[0]!;
  await eventually(async () => (await first.node.digest()) === (await leader.node.digest()), 10_000, 'the follower caught up');
  // A restart makes LevelDB write its recovered .log into a table.
  await first.stop();
  const follower = await cluster.start(first.id);
  const store = path.join(cluster.root, `m${follower.id}`, 'store');
  const data = u8Page(DAMAGED, BYTES).data;
  const needle = Buffer.from(data.subarray(BYTES / 2, BYTES / 2 + 64));
  const table = readdirSync(store)
    .filter((name) => name.endsWith('.ldb'))
    .map((name) => path.join(store, name))
    .find((file) => readFileSync(file).includes(needle));
  t.ok(table !== undefined, 'the payload is in a table');
  const bytes = readFileSync(table!);
  const at = bytes.indexOf(needle);
  bytes[at] = bytes[at]! ^ 0x41;
  writeFileSync(table!, bytes);

  const reader = new RawClient(follower.address);
  t.teardown(() => reader.close());
  const request = { namespace: NS, keys: [pageKey(DAMAGED)] };
  const refused = await reader.serverStream<GetPagesResponse>('cache', 'GetPages', request);
  t.equal(refused.error?.code, grpc.status.DATA_LOSS, 'KVC_CHECKSUM_MISMATCH (DATA_LOSS)');
  t.same(refused.messages.filter((m) => m.data.byteLength > 0), [], 'not one byte of it');
  const served = await servedEventually(reader, request);
  t.equal(crc32c(served), crc32c(data), 'the bytes that were put');
  t.match(cluster.logs.join('\n'), /payload repair: done, 1 repaired from peers/);
});

t.test('a member whose LevelDB cannot open rejoins by snapshot with the same digest', async (t) => {
  const leader = await cluster.leader();
  const follower = cluster.followers().at(-1)!;
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

  // Its watch window starts at the installed snapshot: older indexes are refused with the oldest it has.
  const raw = new RawClient(restarted.address);
  t.teardown(() => raw.close());
  const watched = await raw.serverStream('cache', 'Watch', { namespace: '', fromIndex: 1 });
  t.equal(watched.error?.kvcCode, 'KVC_WATCH_COMPACTED', 'a Watch from index 1 after the snapshot install: KVC_WATCH_COMPACTED');
  const oldest = Number(watched.error?.metadata.get('kvc-oldest-index')[0]);
  t.ok(oldest > 1 && oldest <= restarted.node.status().appliedIndex + 1, `it names the oldest index it can serve (${oldest})`);
});

t.test('a member whose store is gone under a WAL that holds entries rebuilds too', async (t) => {
  const leader = await cluster.leader();
  const follower = cluster.followers()[0]!;
  await eventually(async () => (await follower.node.digest()) === (await leader.node.digest()), 10_000, 'the follower caught up');
  await follower.stop();
  rmSync(path.join(cluster.root, `m${follower.id}`, 'store'), { recursive: true });
  const restarted = await cluster.start(follower.id);
  await eventually(async () => (await restarted.node.digest()) === (await leader.node.digest()), 15_000, 'the rebuilt member has the digest of the leader');
  t.match(cluster.logs.join('\n'), new RegExp(`member ${follower.id}: STORE DAMAGED, REBUILDING FROM THE LEADER: the store is missing while the WAL holds entries`));
});
