// Proves the member's memory tier on 3 in-process members (real WALs, LevelDBs and pinned or
// fallback arenas): reads go through the tier (miss, then hit) on every replica; a follower that
// cached a page, was cut off while the page was deleted and put again with other bytes, and then
// caught up by installing a store snapshot (no delete ever applied on it) serves the new bytes,
// never its stale cached copy - the install cleared the tier; a member configured with
// arenaBytes 0 has no tier; a NUMA node that does not exist fails the start cleanly (the data
// directory opens again right after).
import t from 'tap';
import { LIMITS } from '../../src/limits.js';
import { ClusterNode } from '../../src/node/index.js';
import { InProcessTransport } from '../../src/node/index.js';
import { NS, eventually, makeCluster, pageBytes, pageKey, putCommand, putWithRetry, type TestCluster } from './helpers.js';

const PAGE_BYTES = 64 * 1024;

async function readBytes(node: ClusterNode, i: number): Promise<{ data: Buffer; fromTier: boolean } | undefined> {
  const lease = await node.readPage(NS, pageKey(i));
  if (lease === undefined) return undefined;
  const result = { data: Buffer.from(lease.data), fromTier: lease.fromTier };
  lease.release();
  return result;
}

async function applyEverywhere(cluster: TestCluster): Promise<void> {
  const leader = await cluster.waitForLeader();
  const target = leader.status().commitIndex;
  await eventually(() => [...cluster.nodes.values()].every((n) => n.status().appliedIndex >= target), 10_000, 'every member to apply');
}

t.test('reads go through each replica\'s tier; a snapshot install clears it', async (t) => {
  const cluster = await makeCluster([1, 2, 3], { compaction: { entries: 40, keepEntries: 0, keepBytes: 0 } });
  t.teardown(() => cluster.stopAll());
  await putWithRetry(cluster, putCommand(1, PAGE_BYTES));
  await applyEverywhere(cluster);
  for (const node of cluster.nodes.values()) {
    t.equal((await readBytes(node, 1))?.fromTier, true, `member ${node.id}: promoted on the first read`);
    await readBytes(node, 1);
    t.match(node.memoryTierStats(), { hits: 1, misses: 1, cachedPages: 1, arenaBytes: LIMITS.memoryTier.smallArenaBytes }, `member ${node.id}: then a hit`);
  }

  // Cut a follower off; delete page 1 and put other bytes under its key; compact past it all.
  const leader = await cluster.waitForLeader();
  const follower = [...cluster.nodes.values()].find((n) => n !== leader)!;
  const others = [...cluster.nodes.keys()].filter((id) => id !== follower.id);
  cluster.transport.partition([follower.id], others);
  await putWithRetry(cluster, { op: 'delete', ns: NS, keys: [pageKey(1)] });
  const renewed = putCommand(1001, PAGE_BYTES);
  if (renewed.op !== 'put') throw new Error('unreachable');
  renewed.pages[0]!.meta.key = pageKey(1);
  await putWithRetry(cluster, renewed);
  for (let i = 2; i < 60; i++) await putWithRetry(cluster, putCommand(i, 512));
  await eventually(() => leader.status().walFirstIndex > follower.status().appliedIndex + 1, 10_000, 'the leader to compact past the follower');
  t.equal((await readBytes(follower, 1))?.fromTier, true, 'while cut off, the follower still serves its copy (the delete has not reached it)');

  const installed = follower.status().snapshotsInstalled;
  cluster.transport.heal();
  await eventually(() => follower.status().snapshotsInstalled > installed, 15_000, 'the follower to install a snapshot');
  await applyEverywhere(cluster);
  const after = await readBytes(follower, 1);
  t.ok(after?.data.equals(Buffer.from(pageBytes(1001, PAGE_BYTES))), 'after the install it serves the new bytes, not its stale copy');
  t.equal(after?.fromTier, true, 'read from LevelDB and promoted again');
  t.ok(follower.memoryTierStats().invalidations >= 1, 'the install dropped the cached copy');
});

t.test('arenaBytes 0 turns the tier off; a missing NUMA node fails the start cleanly', async (t) => {
  const cluster = await makeCluster([1], { memoryTier: { arenaBytes: 0 } });
  t.teardown(() => cluster.stopAll());
  const node = await cluster.waitForLeader();
  await putWithRetry(cluster, putCommand(1, PAGE_BYTES));
  t.equal((await readBytes(node, 1))?.fromTier, false);
  t.equal((await readBytes(node, 1))?.fromTier, false);
  t.match(node.memoryTierStats(), { enabled: false, arenaBytes: 0, hits: 0, misses: 2 });
  await node.stop();

  const transport = new InProcessTransport();
  const config = { id: 1, dataDir: cluster.dirs.get(1)!, initialVoters: [1], transport, tickMs: 10, fsync: false };
  await t.rejects(ClusterNode.start({ ...config, memoryTier: { arenaBytes: 8 * 1024 * 1024, numaNode: 999 } }), /numaNode 999 is not a NUMA node of this machine/);
  const again = await ClusterNode.start({ ...config, memoryTier: { arenaBytes: 8 * 1024 * 1024, numaNode: 0 } });
  t.teardown(() => again.stop());
  await eventually(() => again.isLeader(), 5_000, 'the restarted member to lead');
  t.ok((await readBytes(again, 1))?.data.equals(Buffer.from(pageBytes(1, PAGE_BYTES))), 'the same data dir opens right after, page intact');
  t.match(again.memoryTierStats(), { arenaBytes: 8 * 1024 * 1024, numaNodes: [0] }, 'its arena on node 0');
});
