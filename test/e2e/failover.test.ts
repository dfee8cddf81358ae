// Failover over real processes: 3 `kvc start` members on loopback with the default timing
// (50 ms ticks, election after 10-20 ticks); writes run while the leader is killed with
// SIGKILL. A new leader is elected within 3 s, no acknowledged page is lost, and the killed
// member restarts on its files, catches up, and `kvc status --json` shows it with the others.
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { NS, startWriteLoad, digestOf, e2eBytes, e2eKey, runKvc, sleep, startProcessCluster } from './helpers.js';

const PAGE_BYTES = 256 * 1024;
const FAILOVER_BOUND_MS = 3_000;

t.test('kill -9 the leader under writes: new leader within 3 s, nothing acknowledged lost', async (t) => {
  const cluster = await startProcessCluster(3);
  t.teardown(() => cluster.teardown());
  const leader = await cluster.leaderId();
  const client = new KvcClient({ endpoints: cluster.endpoints(), deadlineMs: 5_000, retries: 20 });
  t.teardown(() => client.close());

  const load = startWriteLoad(client, PAGE_BYTES, 3);
  const acked = load.acked;
  while (acked.length < 30) await sleep(20);

  const killedAt = Date.now();
  await cluster.kill(leader);
  const newLeader = await cluster.leaderId(10_000, leader);
  const failoverMs = Date.now() - killedAt;
  t.ok(failoverMs <= FAILOVER_BOUND_MS, `member ${newLeader} became leader ${failoverMs} ms after the kill (bound ${FAILOVER_BOUND_MS} ms)`);
  const ackedAtKill = acked.length;
  while (acked.length < ackedAtKill + 30) await sleep(20);
  await load.stop();

  await cluster.start(leader);
  const reader = new KvcClient({ endpoints: cluster.endpoints(), deadlineMs: 20_000 });
  t.teardown(() => reader.close());
  const keys = acked.map(e2eKey);
  for (const [id, address] of cluster.addresses) {
    if (!cluster.processes.has(id)) continue;
    // The restarted member catches up a moment later: wait until it has every acknowledged key.
    const member = new KvcClient({ endpoints: [address], deadlineMs: 10_000 });
    const deadline = Date.now() + 30_000;
    let present = 0;
    while (Date.now() < deadline) {
      present = 0;
      for (const key of keys) present += await member.lookup(NS, [key]).catch(() => 0);
      if (present === keys.length) break;
      await sleep(200);
    }
    member.close();
    let wrong = 0;
    let count = 0;
    for await (const page of reader.getPages(NS, keys, { endpoint: address })) {
      if (digestOf(page.data) !== digestOf(e2eBytes(acked[count]!, PAGE_BYTES))) wrong++;
      count++;
    }
    t.equal(count, acked.length, `member ${id} holds all ${acked.length} acknowledged pages`);
    t.equal(wrong, 0, `member ${id}: every page has the right bytes`);
  }

  const status = await runKvc(['status', '--endpoints', cluster.endpoints().join(','), '--json']);
  t.equal(status.code, 0, 'kvc status exits 0');
  const doc = JSON.parse(status.stdout) as { leader: number; members: { id: number; role: string; appliedIndex: number }[] };
  t.equal(doc.members.length, 3, 'kvc status lists the three members');
  const restarted = doc.members.find((m) => m.id === leader);
  t.ok(restarted !== undefined && restarted.role === 'follower', `the restarted member ${leader} is a follower again`);
  t.ok(doc.leader > 0 && doc.leader !== leader, `leader ${doc.leader}`);
});
