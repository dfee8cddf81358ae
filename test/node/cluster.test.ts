// Proves the node driver's basic contract on a 3-member in-process cluster with real WALs and
// LevelDBs: puts are answered once applied and every member converges to the same store digest;
// a follower refuses writes with KVC_NOT_LEADER naming the leader; ReadIndex reads work on a
// follower; a leader cut off from its followers never acknowledges a put (nothing is acked
// before a majority has it); fsync is on by default; leadership transfer and a learner added and
// promoted under load work through the log.
import t from 'tap';
import { FaultInjectingFileLayer } from '../../src/wal/index.js';
import { KvcError } from '../../src/errors.js';
import { NS, eventually, makeCluster, pageBytes, pageKey, putCommand, putWithRetry } from './helpers.js';

t.test('puts replicate to every member and digests converge', async (t) => {
  const cluster = await makeCluster([1, 2, 3]);
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.waitForLeader();
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => leader.propose(putCommand(i, 32 * 1024))));
  t.ok(results.every((r) => r.ok), 'all 40 puts applied');
  const again = await leader.propose(putCommand(3, 32 * 1024));
  t.ok(again.ok, 'an identical put is an idempotent success');
  await eventually(() => [...cluster.nodes.values()].every((n) => n.status().appliedIndex === leader.status().appliedIndex), 5_000, 'followers to apply');
  const digests = await Promise.all([...cluster.nodes.values()].map((n) => n.digest()));
  t.equal(new Set(digests).size, 1, 'all members hold identical stores');
  for (const node of cluster.nodes.values()) {
    const page = await node.getPage(NS, pageKey(7));
    t.ok(page !== undefined && Buffer.from(page.data).equals(pageBytes(7, 32 * 1024)), `member ${node.id} serves the right bytes`);
  }
  const follower = [...cluster.nodes.values()].find((n) => !n.isLeader())!;
  await t.rejects(follower.propose(putCommand(99, 16)), { code: 'KVC_NOT_LEADER' }, 'a follower refuses writes');
  await follower.linearizableRead();
  t.ok(follower.status().appliedIndex >= leader.status().commitIndex - 1, 'a follower read waits until it has applied the read index');
});

t.test('a leader cut off from its followers never acknowledges a put', async (t) => {
  const cluster = await makeCluster([1, 2, 3]);
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.waitForLeader();
  await putWithRetry(cluster, putCommand(1, 1024));
  const others = [...cluster.nodes.keys()].filter((id) => id !== leader.id);
  cluster.transport.partition([leader.id], others);
  const outcome = await leader.propose(putCommand(2, 1024), 1_500).then(
    () => 'acknowledged',
    (err: unknown) => (err instanceof KvcError ? err.code : String(err)),
  );
  t.not(outcome, 'acknowledged', `the isolated leader did not acknowledge (${outcome})`);
  t.equal(await leader.lookup(NS, [pageKey(2)]), 0, 'and did not apply it');
  cluster.transport.heal();
  await putWithRetry(cluster, putCommand(3, 1024));
  t.pass('the cluster writes again after the partition heals');
});

t.test('fsync is on by default: every Ready is fdatasynced before it is acknowledged', async (t) => {
  const files = new FaultInjectingFileLayer();
  const cluster = await makeCluster([1], { fsync: undefined, walFiles: files });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.waitForLeader();
  const before = files.fdatasyncCount('.wal');
  await leader.propose(putCommand(1, 4096));
  t.ok(files.fdatasyncCount('.wal') > before, 'the WAL was fdatasynced for the put');
});

t.test('leadership transfer, and a learner added, caught up and promoted under load', async (t) => {
  const cluster = await makeCluster([1, 2, 3]);
  t.teardown(() => cluster.stopAll());
  let leader = await cluster.waitForLeader();
  const target = [...cluster.nodes.keys()].find((id) => id !== leader.id)!;
  leader.transferLeader(target);
  await eventually(() => cluster.nodes.get(target)!.isLeader(), 5_000, `member ${target} to lead`);
  t.pass(`leadership moved to ${target}`);

  let written = 0;
  let stop = false;
  const load = (async () => {
    while (!stop) await putWithRetry(cluster, putCommand(1000 + written++, 8 * 1024));
  })();
  leader = await cluster.waitForLeader();
  const learner = await cluster.start(4, { initialVoters: [] });
  leader.addMember(4, 'in-process:4', true);
  await eventually(() => leader.status().learners.includes(4), 5_000, 'member 4 to join as learner');
  await eventually(() => learner.status().appliedIndex >= leader.status().commitIndex - 5, 10_000, 'the learner to catch up');
  (await cluster.waitForLeader()).addMember(4, 'in-process:4', false);
  await eventually(() => learner.status().voters.includes(4), 5_000, 'member 4 promoted to voter');
  stop = true;
  await load;
  t.ok(written > 0, `load ran during the change (${written} puts)`);
  await eventually(async () => (await learner.digest()) === (await (await cluster.waitForLeader()).digest()), 10_000, 'member 4 to converge');
  t.pass('the promoted member holds the same store as the leader');
});

t.test('a member added after the log was compacted joins through a snapshot that names it', async (t) => {
  const cluster = await makeCluster([1, 2, 3], { compaction: { entries: 50, keepEntries: 0 } });
  t.teardown(() => cluster.stopAll());
  for (let i = 0; i < 120; i++) await putWithRetry(cluster, putCommand(5000 + i, 1024));
  const leader = await cluster.waitForLeader();
  t.ok(leader.status().walFirstIndex > 1, `the leader compacted its log (first index ${leader.status().walFirstIndex})`);
  const joiner = await cluster.start(4, { initialVoters: [] });
  leader.addMember(4, 'in-process:4', true);
  await eventually(() => joiner.status().learners.includes(4), 10_000, 'member 4 to learn the membership that names it');
  await eventually(async () => (await joiner.digest()) === (await leader.digest()), 10_000, 'member 4 to converge');
  t.ok(joiner.status().snapshotsInstalled >= 1, 'it caught up through a snapshot');
  t.ok(leader.status().snapshotsSent <= 3, `without a resend loop (${leader.status().snapshotsSent} sent)`);
});
