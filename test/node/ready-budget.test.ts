// Proves the byte budget of new proposals per Ready (LIMITS.node.readyProposalBytesMax, config
// `readyProposalBytesMax`) on a real one-member cluster with its WAL: puts that arrive in one turn
// beyond the budget wait, in order, for the next Ready instead of joining one large one; every put
// is still answered and applied; a single proposal larger than the budget still goes alone; and
// with the default budget the same burst is one Ready.
import t, { type Test } from 'tap';
import type { NodeObserver } from '../../src/node/index.js';
import { eventually } from '../wait.js';
import { NS, makeCluster, pageKey, putCommand } from './helpers.js';

const PAGE_BYTES = 16 * 1024;
const PAGES = 16;

/** A one-member cluster whose WAL saves (the entry bytes of each Ready that wrote entries) are recorded. */
async function soleMember(t: Test, readyProposalBytesMax: number | undefined) {
  const saves: number[] = [];
  const observer: NodeObserver = { walSaved: (_seconds, entryBytes) => void (entryBytes > 0 && saves.push(entryBytes)) };
  const cluster = await makeCluster([1], { observer, ...(readyProposalBytesMax === undefined ? {} : { readyProposalBytesMax }) });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.waitForLeader();
  // A new leader first proposes the cluster's settings (CapacityKeeper's bootstrap): a Ready with
  // entries of its own, which a loaded machine may save after waitForLeader returned. Once they
  // are applied, that Ready and the leader's first one (its empty entry of the new term) are behind us.
  await eventually(() => leader.store.settings().replicated, 10_000, 'the bootstrap settings applied');
  saves.length = 0;
  return { leader, saves };
}

t.test('puts past the budget of one Ready go into the next ones, in order, and all are answered', async (t) => {
  const budget = 4 * PAGE_BYTES;
  const { leader, saves } = await soleMember(t, budget);
  // All proposed in one turn: the member's loop takes them together.
  const answered: number[] = [];
  const results = await Promise.all(
    Array.from({ length: PAGES }, (_, i) =>
      leader.propose(putCommand(i, PAGE_BYTES), 10_000).then((r) => {
        answered.push(i);
        return r;
      }),
    ),
  );
  t.ok(results.every((r) => r.ok), 'every put answered ok');
  t.same(answered, Array.from({ length: PAGES }, (_, i) => i), 'in the order they were proposed (the ones held back went first in the next Ready)');
  t.equal(leader.lookup(NS, Array.from({ length: PAGES }, (_, i) => pageKey(i))), PAGES, 'and every page applied');
  t.ok(saves.length >= PAGES / 4, `${saves.length} Readies wrote the ${PAGES} puts (a budget of 4 pages each)`);
  // A Ready stops taking proposals once it holds the budget: at most one proposal past it.
  const proposalBytes = PAGE_BYTES + 1024;
  t.ok(saves.every((bytes) => bytes <= budget + proposalBytes), `no Ready took more than the budget and one proposal: ${saves.join(', ')}`);
});

t.test('a proposal larger than the budget still goes, alone', async (t) => {
  const { leader, saves } = await soleMember(t, PAGE_BYTES / 4);
  const results = await Promise.all([0, 1, 2].map((i) => leader.propose(putCommand(i, PAGE_BYTES), 10_000)));
  t.ok(results.every((r) => r.ok), 'all three answered ok');
  t.equal(saves.length, 3, 'one Ready each');
});

t.test('with the default budget (4 MiB) the same burst is one Ready', async (t) => {
  const { leader, saves } = await soleMember(t, undefined);
  const results = await Promise.all(Array.from({ length: PAGES }, (_, i) => leader.propose(putCommand(i, PAGE_BYTES), 10_000)));
  t.ok(results.every((r) => r.ok), 'every put answered ok');
  t.equal(saves.length, 1, `one Ready wrote all ${PAGES} puts`);
});
