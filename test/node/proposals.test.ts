// Proves how a member matches applied entries to its waiting callers (src/node/pending-requests.ts,
// proposal.ts): sequence numbers start at a random value in every process, so a proposal made
// before a restart and committed after it cannot answer a new caller with its result; they wrap
// within u32 exactly as the entry header stores them; a settled or unknown number answers nobody.
import t from 'tap';
import { ProposalRegistry } from '../../src/node/pending-requests.js';
import { decodeProposal, encodeProposal, proposalSeqOf } from '../../src/node/proposal.js';

const NOOP = { op: 'noop' } as const;
const TIMEOUT_MS = 5_000;

/** Registers one proposal on `registry`: its number, and its settlement. */
function propose(registry: ProposalRegistry): { seq: number; done: Promise<unknown> } {
  let seq = -1;
  const done = registry.add(TIMEOUT_MS, (s) => (seq = s));
  return { seq, done };
}

t.test('a restarted member does not reuse the numbers of its proposals from before', async (t) => {
  // Before the crash: proposal `old.seq` reached the log. After it: a new process, a new registry.
  const before = new ProposalRegistry();
  const old = propose(before);
  before.failAll(() => new Error('crashed'));
  await t.rejects(old.done, /crashed/);
  const after = new ProposalRegistry();
  const fresh = propose(after);
  t.not(fresh.seq, old.seq, `the new process numbers from elsewhere (${old.seq} before, ${fresh.seq} after)`);
  // The old entry commits now and is applied: nobody waits on its number.
  const applied = decodeProposal(encodeProposal(7, old.seq, NOOP));
  after.settle(applied.seq, { ok: true });
  const raced = await Promise.race([fresh.done.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 50))]);
  t.equal(raced, 'waiting', 'the new caller is not answered by the old entry');
  after.settle(fresh.seq, { ok: true });
  t.same(await fresh.done, { ok: true }, 'its own entry answers it');
});

t.test('numbers wrap within u32 as the entry header stores them', async (t) => {
  const registry = new ProposalRegistry(2 ** 32 - 2);
  const first = propose(registry);
  const second = propose(registry);
  t.same([first.seq, second.seq], [2 ** 32 - 1, 0], 'after the largest u32 comes 0');
  for (const p of [first, second]) {
    const data = encodeProposal(3, p.seq, NOOP);
    t.equal(decodeProposal(data).seq, p.seq, `seq ${p.seq} survives the header`);
    t.equal(proposalSeqOf(data, 3), p.seq, 'and reads back from the header alone');
    t.equal(proposalSeqOf(data, 4), undefined, "another member's proposal is not ours");
    registry.settle(decodeProposal(data).seq, { ok: true });
  }
  t.same(await Promise.all([first.done, second.done]), [{ ok: true }, { ok: true }], 'both answered by their own entries');
});
