// Proves WAL compaction and snapshot catch-up on a 3-member in-process cluster: after more than
// 2,000 entries (the entry trigger, lowered from the default 10,000 so the test writes a fifth as
// many puts) every member's WAL has dropped the segments below its applied index; a follower
// whose data directory was wiped rejoins and catches up through a streamed store snapshot; a snapshot transfer cut in the middle leaves the follower's old state
// intact (same digest, still serving) and is retried until it succeeds.
import t from 'tap';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterNode } from '../../src/node/index.js';
import { eventually, makeCluster, putCommand, putWithRetry, type TestCluster } from './helpers.js';

const ENTRIES = 2_100;
const TRIGGER_ENTRIES = 2_000;
const PAGE_BYTES = 512;
const SEGMENT_BYTES = 512 * 1024;

/** Writes `count` puts through the leader, many in flight so they batch into few Raft appends. */
async function writeMany(cluster: TestCluster, first: number, count: number): Promise<void> {
  const inFlight = 256;
  let next = first;
  const end = first + count;
  const worker = async (): Promise<void> => {
    while (next < end) {
      await putWithRetry(cluster, putCommand(next++, PAGE_BYTES));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, () => worker()));
}

async function walSegments(dir: string): Promise<string[]> {
  return (await readdir(path.join(dir, 'wal'))).filter((f) => f.endsWith('.wal')).sort();
}

/** The first index in the name of a segment file (<sequence>-<first index>.wal). */
function firstIndexOf(segment: string): number {
  return Number(segment.split('-')[1]!.replace('.wal', ''));
}

async function converged(cluster: TestCluster, ids: number[]): Promise<boolean> {
  const digests = await Promise.all(ids.map((id) => cluster.nodes.get(id)!.digest()));
  return new Set(digests).size === 1;
}

t.test('compaction drops old segments; wiped and cut-off followers catch up by snapshot', async (t) => {
  const cluster = await makeCluster([1, 2, 3], { walSegmentBytes: SEGMENT_BYTES, compaction: { entries: TRIGGER_ENTRIES, keepEntries: 500 } });
  t.teardown(() => cluster.stopAll());
  await writeMany(cluster, 0, ENTRIES);
  const leader = await cluster.waitForLeader();
  await eventually(() => [...cluster.nodes.values()].every((n) => n.status().appliedIndex === leader.status().commitIndex), 10_000, 'apply');
  for (const node of cluster.nodes.values()) {
    const st = node.status();
    t.ok(st.walFirstIndex > 1, `member ${node.id}: WAL starts at ${st.walFirstIndex}, not 1`);
    t.ok(st.walFirstIndex <= st.appliedIndex, `member ${node.id}: and not past the applied index ${st.appliedIndex}`);
    // The WAL deletes compacted segments' files in the background, after compact() resolves.
    const dir = cluster.dirs.get(node.id)!;
    await eventually(async () => firstIndexOf((await walSegments(dir))[0]!) > 1, 5_000, `member ${node.id}'s compacted segment files to be deleted`).catch(() => undefined);
    const segments = await walSegments(dir);
    const firstOfOldest = firstIndexOf(segments[0]!);
    t.ok(firstOfOldest <= st.walFirstIndex, `member ${node.id}: oldest kept segment (${segments[0]}) holds the first index`);
    t.ok(firstOfOldest > 1, `member ${node.id}: segments below the compaction point are gone (${segments.length} left)`);
  }

  // A follower whose data directory is wiped rejoins through a snapshot.
  const followerId = [...cluster.nodes.keys()].find((id) => id !== leader.id)!;
  await cluster.nodes.get(followerId)!.stop();
  await rm(cluster.dirs.get(followerId)!, { recursive: true, force: true });
  const wiped = await cluster.start(followerId, { initialVoters: [] });
  await eventually(() => wiped.status().snapshotsInstalled > 0, 15_000, 'the wiped follower to install a snapshot');
  await eventually(() => converged(cluster, [...cluster.nodes.keys()]), 15_000, 'the wiped follower to converge');
  t.pass('the wiped follower caught up through a snapshot and holds the same store');

  // A follower cut off while the log is compacted past it; its snapshot transfer is cut midway.
  const laggard: ClusterNode = wiped;
  const others = [...cluster.nodes.keys()].filter((id) => id !== laggard.id);
  cluster.transport.partition([laggard.id], others);
  await writeMany(cluster, ENTRIES, ENTRIES);
  const oldDigest = await laggard.digest();
  const oldApplied = laggard.status().appliedIndex;
  const installedBefore = laggard.status().snapshotsInstalled;
  cluster.transport.faults.cutSnapshotAfterChunks = 2;
  cluster.transport.heal();
  await eventually(() => cluster.transport.snapshotsCut >= 2, 15_000, 'two snapshot transfers to be cut');
  t.ok(cluster.transport.snapshotsCut >= 2, `transfers were cut (${cluster.transport.snapshotsCut}) and retried`);
  t.equal(laggard.status().snapshotsInstalled, installedBefore, 'no cut transfer was installed');
  t.equal(laggard.status().appliedIndex, oldApplied, 'the follower kept its old applied index');
  t.equal(await laggard.digest(), oldDigest, 'and its old state, intact and readable');
  cluster.transport.faults.cutSnapshotAfterChunks = undefined;
  await eventually(() => laggard.status().snapshotsInstalled > installedBefore, 15_000, 'the retried transfer to install');
  await eventually(() => converged(cluster, [...cluster.nodes.keys()]), 15_000, 'the follower to converge');
  t.pass('the retried transfer succeeded and the follower converged');
});
