// Proves membership and recovery over the gRPC transport with real members on 127.0.0.1: a 4th
// member joins as a learner through AdminService.AddMember, catches up from a store snapshot
// streamed over PeerService.Snapshot (the leader's WAL was compacted, so the log alone cannot
// bring it up), is promoted to voter, and another member is removed; a member that was down is
// unreachable without harm (messages to it are dropped and counted), then restarts on its data
// directory, reconnects and catches up, and its address book (saved in its data directory)
// holds the member added at run time.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { ADDRESS_BOOK_FILE, type LookupResponse__Output as LookupResponse, type StatusResponse__Output as StatusResponse } from '../../src/rpc/index.js';
import { NS, RawClient, eventually, putPages, reservePorts, sleep, startCluster, u8Page } from './helpers.js';

const cluster = await startCluster([1, 2, 3], { node: { tickMs: 10, fsync: false, compaction: { keepEntries: 0 } } });
t.teardown(() => cluster.stopAll());

async function leaderClient(): Promise<RawClient> {
  const client = new RawClient((await cluster.leader()).address);
  t.teardown(() => client.close());
  return client;
}

function applied(id: number): number {
  return cluster.members.get(id)!.node.status().appliedIndex;
}

t.test('a learner joins from a snapshot, is promoted, and another member is removed', async (t) => {
  const client = await leaderClient();
  const [port] = await reservePorts(1);
  const address = `127.0.0.1:${port}`;
  cluster.addresses.set(4, address);
  await client.unary('admin', 'AddMember', { id: 4, address, learner: true });
  const pages = Array.from({ length: 6 }, (_, i) => u8Page(i, 64 * 1024, 4));
  const put = await putPages(client, pages);
  t.ok(put.results.every((r) => r.code === ''), 'pages stored while the learner is not running yet');
  // Compacting after the learner was added: the Raft snapshot's ConfState includes it (see the
  // report on snapshots that predate a member's addition).
  await client.unary('admin', 'Snapshot', {});
  const leader = await cluster.leader();
  t.ok(leader.node.status().walFirstIndex > 1, 'the leader compacted its WAL, so the newcomer needs a snapshot');

  const joiner = await cluster.start(4, { join: true, members: [1, 2, 3].map((id) => ({ id, address: cluster.addresses.get(id)! })) });
  await eventually(() => applied(4) >= leader.node.status().commitIndex && joiner.node.status().commitIndex >= leader.node.status().commitIndex, 10_000, 'the learner to catch up');
  t.ok(joiner.node.status().snapshotsInstalled >= 1, 'the learner installed a store snapshot streamed over gRPC');
  // The leader counts the transfer when the receiver's answer arrives, a moment after it applied.
  await eventually(() => leader.transport.counters.snapshotsSent >= 1, 5_000, 'the leader to count the transfer');
  t.ok(leader.transport.counters.snapshotsSent >= 1, 'the leader counted the transfer');
  const joinerClient = new RawClient(joiner.address);
  t.teardown(() => joinerClient.close());
  const lookup = await joinerClient.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: pages.map((p) => p.meta.key) });
  t.equal(lookup.matched, pages.length, 'the learner serves every page');

  await client.unary('admin', 'AddMember', { id: 4, address, learner: false });
  t.ok(leader.node.status().voters.includes(4), 'promoted to voter');
  const removed = cluster.followers().find((m) => m.id !== 4)!;
  await client.unary('admin', 'RemoveMember', { id: removed.id });
  const st = await client.unary<StatusResponse>('admin', 'Status', {});
  t.same(st.members.map((m) => m.id).sort(), [1, 2, 3, 4].filter((id) => id !== removed.id), 'the removed member is gone from the status');
  t.ok(st.members.every((m) => m.address !== ''), 'every member has an address');
  await removed.stop();
  cluster.members.delete(removed.id);
  const after = await putPages(client, [u8Page(100, 1024)]);
  t.equal(after.results[0]!.code, '', 'the new configuration commits');
  await eventually(() => applied(4) >= (cluster.members.get(leader.id)?.node.status().appliedIndex ?? 0), 5_000, 'member 4 to apply the put');
});

t.test('a member that was down is skipped, then restarts, reconnects and catches up', async (t) => {
  const leader = await cluster.leader();
  const down = cluster.followers()[0]!;
  await down.stop();
  const droppedBefore = leader.transport.counters.dropped;
  const client = await leaderClient();
  const put = await putPages(client, Array.from({ length: 4 }, (_, i) => u8Page(200 + i, 8192)));
  t.ok(put.results.every((r) => r.code === ''), 'the remaining majority commits');
  await sleep(200);
  t.ok(leader.transport.counters.dropped > droppedBefore, 'messages to the stopped member are dropped and counted');

  const restarted = await cluster.start(down.id);
  const started = Date.now();
  await eventually(() => restarted.node.status().appliedIndex >= leader.node.status().commitIndex, 10_000, 'the restarted member to catch up');
  t.ok(Date.now() - started < 5_000, `caught up in ${Date.now() - started} ms`);
  const book = JSON.parse(await readFile(path.join(cluster.root, `m${down.id}`, ADDRESS_BOOK_FILE), 'utf8')) as Record<string, string>;
  t.equal(book['4'], cluster.addresses.get(4), 'its saved address book has the member added at run time');
  const restartedClient = new RawClient(restarted.address);
  t.teardown(() => restartedClient.close());
  const lookup = await restartedClient.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [u8Page(203, 8192).meta.key] });
  t.equal(lookup.matched, 1, 'it serves the pages written while it was down');
});
