// Membership over real processes, under a write load: a 4th member joins as a learner
// (`kvc members add 4 ADDRESS --learner`), catches up, is promoted to voter, and another member
// is removed (`kvc members remove`); every acknowledged page is then on every remaining member.
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { NS, startWriteLoad, e2eKey, runKvc, sleep, startProcessCluster } from './helpers.js';

const PAGE_BYTES = 64 * 1024;

t.test('add a learner, promote it after catch-up, remove another member, under load', async (t) => {
  const cluster = await startProcessCluster(3, { spare: 1 });
  t.teardown(() => cluster.teardown());
  const leader = await cluster.leaderId();
  const client = new KvcClient({ endpoints: cluster.endpoints(), deadlineMs: 5_000, retries: 20 });
  t.teardown(() => client.close());
  const load = startWriteLoad(client, PAGE_BYTES, 2);
  const acked = load.acked;
  while (acked.length < 20) await sleep(20);

  const endpoints = cluster.endpoints().join(',');
  await cluster.start(4);
  const add = await runKvc(['members', 'add', '4', cluster.addresses.get(4)!, '--learner', '--endpoints', endpoints]);
  t.equal(add.code, 0, `kvc members add --learner exits 0 ${add.stderr}`);
  const admin = new KvcClient({ endpoints: [...cluster.endpoints()], deadlineMs: 5_000 });
  t.teardown(() => admin.close());
  const deadline = Date.now() + 30_000;
  let caughtUp = false;
  while (!caughtUp && Date.now() < deadline) {
    const [learner, lead] = await Promise.all([admin.status(cluster.addresses.get(4)!), admin.status(cluster.addresses.get(leader)!)]);
    caughtUp = lead.commitIndex - learner.appliedIndex < 10;
    if (!caughtUp) await sleep(100);
  }
  t.ok(caughtUp, 'the learner caught up');
  const promote = await runKvc(['members', 'add', '4', cluster.addresses.get(4)!, '--endpoints', endpoints]);
  t.equal(promote.code, 0, `promotion exits 0 ${promote.stderr}`);
  const victim = [1, 2, 3].find((id) => id !== leader)!;
  const remove = await runKvc(['members', 'remove', String(victim), '--endpoints', endpoints]);
  t.equal(remove.code, 0, `kvc members remove ${victim} exits 0 ${remove.stderr}`);
  const lead = await admin.status(cluster.addresses.get(leader)!);
  t.same(lead.members.filter((m) => !m.learner).map((m) => m.id).sort(), [1, 2, 3, 4].filter((id) => id !== victim), 'voters after the changes');
  while (acked.length < 60) await sleep(20);
  await load.stop();
  await cluster.kill(victim);

  for (const id of [1, 2, 3, 4].filter((n) => n !== victim)) {
    const address = cluster.addresses.get(id)!;
    const member = new KvcClient({ endpoints: [address], deadlineMs: 10_000 });
    const until = Date.now() + 20_000;
    let matched = 0;
    while (Date.now() < until) {
      matched = await member.lookup(NS, acked.map(e2eKey).slice(-1));
      if (matched === 1) break;
      await sleep(100);
    }
    let present = 0;
    for (const i of acked) present += await member.lookup(NS, [e2eKey(i)]);
    member.close();
    t.equal(present, acked.length, `member ${id} holds all ${acked.length} acknowledged pages`);
  }
});
