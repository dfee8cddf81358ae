// Proves crash safety of the whole member (Raft core + WAL + store) on a 3-member in-process
// cluster under a concurrent put workload: members are "crashed" at random points — their
// in-memory state discarded, their files kept — half the time by tearing their next WAL write
// (a fault-injecting file layer writes only a prefix of the record, then fails every call, as a
// dying process would), half the time at once; they restart on the same files. At the end every
// acknowledged page is present with the right bytes on every member, and all members' LevelDB
// contents hash the same. The seed is fixed so a failure can be replayed.
import t from 'tap';
import { FaultInjectingFileLayer } from '../../src/wal/index.js';
import type { ClusterNode } from '../../src/node/index.js';
import { NS, eventually, makeCluster, pageBytes, pageKey, putCommand, sleep } from './helpers.js';

const ROUNDS = 8;
const PAGE_BYTES = 16 * 1024;
const CLIENTS = 6;

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

t.test('every acknowledged page survives random crashes and torn WAL writes', async (t) => {
  const random = prng(20261124);
  const layers = new Map<number, FaultInjectingFileLayer>();
  const layerFor = (id: number): FaultInjectingFileLayer => {
    const layer = new FaultInjectingFileLayer();
    layers.set(id, layer);
    return layer;
  };
  const cluster = await makeCluster([1, 2, 3]);
  t.teardown(() => cluster.stopAll());
  // Restart every member on a fault-injecting layer (same files).
  for (const id of [1, 2, 3]) {
    await cluster.nodes.get(id)!.stop();
    await cluster.start(id, { walFiles: layerFor(id) });
  }
  const acknowledged = new Set<number>();
  let next = 0;
  let stop = false;
  const client = async (): Promise<void> => {
    while (!stop) {
      const i = next++;
      const leader = [...cluster.nodes.values()].find((n) => n.fatalError === undefined && n.isLeader());
      if (leader === undefined) {
        await sleep(5);
        continue;
      }
      try {
        const result = await leader.propose(putCommand(i, PAGE_BYTES), 2_000);
        if (result.ok) acknowledged.add(i);
      } catch {
        // Not acknowledged: the put may or may not have been applied; it is not counted.
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, () => client());
  let torn = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(100 + Math.floor(random() * 200));
    const ids = [...cluster.nodes.keys()];
    const leader = [...cluster.nodes.values()].find((n) => n.isLeader());
    // Bias toward the leader: its crash is the interesting one for acknowledged writes.
    const victimId = leader !== undefined && random() < 0.5 ? leader.id : ids[Math.floor(random() * ids.length)]!;
    const victim = cluster.nodes.get(victimId)!;
    if (random() < 0.5) {
      layers.get(victimId)!.tearNextWrite((bytes) => Math.floor(random() * bytes));
      torn++;
      await eventually(() => victim.fatalError !== undefined, 5_000, `member ${victimId} to hit the torn write`).catch(() => {});
    }
    await victim.crash();
    await sleep(Math.floor(random() * 150));
    await cluster.start(victimId, { walFiles: layerFor(victimId) });
  }
  stop = true;
  await Promise.all(clients);
  t.ok(acknowledged.size > 50, `the workload made progress (${acknowledged.size} acknowledged puts, ${torn} torn writes)`);

  const leader = await cluster.waitForLeader();
  await eventually(
    () => [...cluster.nodes.values()].every((n: ClusterNode) => n.status().appliedIndex === leader.status().commitIndex),
    15_000,
    'all members to apply everything committed',
  );
  for (const node of cluster.nodes.values()) {
    let missing = 0;
    let wrong = 0;
    for (const i of acknowledged) {
      const page = await node.getPage(NS, pageKey(i));
      if (page === undefined) missing++;
      else if (!Buffer.from(page.data).equals(pageBytes(i, PAGE_BYTES))) wrong++;
    }
    t.equal(missing, 0, `member ${node.id}: no acknowledged page missing`);
    t.equal(wrong, 0, `member ${node.id}: no page with wrong bytes`);
  }
  const digests = await Promise.all([...cluster.nodes.values()].map((n) => n.digest()));
  t.equal(new Set(digests).size, 1, 'all members\' LevelDB contents hash the same');
});
