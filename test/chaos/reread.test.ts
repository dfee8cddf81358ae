// Proves the harness's second look at its final reads (src/chaos/reread.ts): the finals are read
// key after key from every member after they converged, and an entry applied meanwhile can take a
// page from one member's read and not another's. Keys the members answered differently are read
// again after a new convergence, only when the cluster has applied past the finals' index and the
// members did converge, at most FINAL_REREAD_ROUNDS_MAX times, and not when the final members
// changed. The cluster is written out by hand, as a sequence of what it answers, the way the
// checkers' tests write histories; the wiring to a real cluster (finals.ts readSettledFinals) runs
// in every `kvc chaos` process test.
import t from 'tap';
import type { MemberView } from '../../src/chaos/admin.js';
import type { Convergence } from '../../src/chaos/finals.js';
import type { MemberFinalState, PageValue } from '../../src/chaos/history.js';
import { differingKeys } from '../../src/chaos/checkers/convergence.js';
import { FINAL_REREAD_ROUNDS_MAX, rereadDiffering, type RereadIo } from '../../src/chaos/reread.js';

const KEY_A = Uint8Array.of(0xaa);
const KEY_B = Uint8Array.of(0xbb);
const A = 'aa';
const B = 'bb';
const PAGE: PageValue = { crc32c: 7, bytes: 4096 };
const OTHER: PageValue = { crc32c: 9, bytes: 4096 };

function convergence(index: number, members = [1, 2, 3], waitedMs = 100): Convergence {
  const views = new Map(members.map((id) => [id, { id, appliedIndex: index, digest: `d${index}` } as MemberView]));
  return { converged: true, waitedMs, views, members };
}

function finals(index: number, pages: Record<number, Record<string, PageValue | null>>): MemberFinalState[] {
  return Object.entries(pages).map(([member, p]) => ({ member: Number(member), pages: { ...p }, appliedIndex: index, digest: `d${index}` }));
}

/** A cluster written out by hand: the applied indexes it reports in turn, what each read again answers, the members of each new convergence. */
class ScriptedCluster implements RereadIo {
  readonly lines: string[] = [];
  readonly reads: string[][] = [];
  converges = 0;
  signal?: AbortSignal;
  constructor(
    private readonly indexes: number[],
    private readonly answers: ((c: Convergence, keys: Uint8Array[]) => MemberFinalState[])[] = [],
    private readonly members: number[][] = [],
  ) {}
  async appliedIndexNow(): Promise<number> {
    return this.indexes.shift() ?? 0;
  }
  async converge(): Promise<Convergence> {
    const index = 100 + ++this.converges;
    return convergence(index, this.members[this.converges - 1] ?? [1, 2, 3], 10);
  }
  async read(c: Convergence, keys: Uint8Array[]): Promise<MemberFinalState[]> {
    this.reads.push(keys.map((k) => Buffer.from(k).toString('hex')));
    return this.answers[this.reads.length - 1]!(c, keys);
  }
  log(line: string): void {
    this.lines.push(line);
  }
}

const answer = (pages: Record<number, Record<string, PageValue | null>>) => (c: Convergence): MemberFinalState[] =>
  finals(c.views.values().next().value!.appliedIndex, pages);

t.test('differingKeys: a key some member answers differently, absent and null alike', async (t) => {
  t.same([...differingKeys(finals(5, { 1: { [A]: PAGE, [B]: null }, 2: { [A]: PAGE }, 3: { [A]: PAGE, [B]: null } }))], []);
  t.same([...differingKeys(finals(5, { 1: { [A]: PAGE, [B]: OTHER }, 2: { [A]: null, [B]: OTHER }, 3: { [A]: PAGE, [B]: PAGE } }))].sort(), [A, B]);
  t.same([...differingKeys([])], []);
});

t.test('members that agree are not read again', async (t) => {
  const cluster = new ScriptedCluster([50]);
  const states = finals(40, { 1: { [A]: PAGE }, 2: { [A]: PAGE }, 3: { [A]: PAGE } });
  const first = convergence(40);
  const result = await rereadDiffering(first, states, [KEY_A], cluster);
  t.equal(result.convergence, first);
  t.same(cluster.reads, []);
  t.same(cluster.lines, []);
});

t.test('a difference while the applied index stands still is kept for the convergence checker', async (t) => {
  const cluster = new ScriptedCluster([40]);
  const states = finals(40, { 1: { [A]: null }, 2: { [A]: PAGE }, 3: { [A]: PAGE } });
  const result = await rereadDiffering(convergence(40), states, [KEY_A, KEY_B], cluster);
  t.same(cluster.reads, [], 'nothing read again');
  t.equal(cluster.converges, 0);
  t.equal(result.finals[0]!.pages[A], null, 'member 1 still holds nothing');
  t.same([...differingKeys(result.finals)], [A]);
});

t.test('once the cluster applied past the finals, the differing keys alone are read again after a new convergence', async (t) => {
  // Member 1 read `a` after the eviction applied there, members 2 and 3 before it.
  const cluster = new ScriptedCluster([41], [answer({ 1: { [A]: null }, 2: { [A]: null }, 3: { [A]: null } })]);
  const states = finals(40, { 1: { [A]: null, [B]: OTHER }, 2: { [A]: PAGE, [B]: OTHER }, 3: { [A]: PAGE, [B]: OTHER } });
  const result = await rereadDiffering(convergence(40), states, [KEY_A, KEY_B], cluster);
  t.same(cluster.reads, [[A]], 'only the differing key');
  t.same(cluster.lines, ['members answered 1 keys differently while the cluster applied past index 40 (to 41): converging again and reading those keys again (round 1)']);
  t.same([...differingKeys(result.finals)], [], 'read again, they agree');
  for (const f of result.finals) {
    t.same(f.pages, { [A]: null, [B]: OTHER }, `member ${f.member}: the new answer for a, the first for b`);
    t.equal(f.appliedIndex, 101, 'the new convergence index');
    t.equal(f.digest, 'd101');
  }
  t.equal(result.convergence.waitedMs, 110, 'the waits are summed');
  t.equal(result.convergence.views.get(1)!.appliedIndex, 101);
});

t.test('at most FINAL_REREAD_ROUNDS_MAX rounds while the cluster keeps moving and the difference stays', async (t) => {
  const differ = answer({ 1: { [A]: null }, 2: { [A]: PAGE }, 3: { [A]: PAGE } });
  const cluster = new ScriptedCluster([41, 200, 300, 400, 500], [differ, differ, differ, differ, differ]);
  const result = await rereadDiffering(convergence(40), finals(40, { 1: { [A]: null }, 2: { [A]: PAGE }, 3: { [A]: PAGE } }), [KEY_A], cluster);
  t.equal(cluster.reads.length, FINAL_REREAD_ROUNDS_MAX);
  t.equal(cluster.lines.length, FINAL_REREAD_ROUNDS_MAX);
  t.same([...differingKeys(result.finals)], [A], 'the difference is reported');
  t.equal(result.finals[0]!.appliedIndex, 100 + FINAL_REREAD_ROUNDS_MAX);
});

t.test('final members that changed are not read again', async (t) => {
  const cluster = new ScriptedCluster([41], [], [[1, 2]]);
  const states = finals(40, { 1: { [A]: null }, 2: { [A]: PAGE }, 3: { [A]: PAGE } });
  const result = await rereadDiffering(convergence(40), states, [KEY_A], cluster);
  t.same(cluster.reads, []);
  t.match(cluster.lines[1], /the final members changed \(now 1, 2\)/);
  t.equal(result.finals[0]!.pages[A], null);
});

t.test('members that did not converge are not read again, nor is a second convergence that failed', async (t) => {
  const never = new ScriptedCluster([41]);
  await rereadDiffering({ ...convergence(40), converged: false }, finals(40, { 1: { [A]: null }, 2: { [A]: PAGE } }), [KEY_A], never);
  t.same([never.lines, never.converges], [[], 0], 'the first wait already took the bound');

  const differ = answer({ 1: { [A]: null }, 2: { [A]: PAGE } });
  const failing = new ScriptedCluster([41, 200], [differ, differ]);
  failing.converge = async () => ({ ...convergence(101, [1, 2], 10), converged: false });
  const result = await rereadDiffering(convergence(40, [1, 2]), finals(40, { 1: { [A]: null }, 2: { [A]: PAGE } }), [KEY_A], failing);
  t.equal(failing.reads.length, 1, 'read once after the failed convergence, then no more rounds');
  t.equal(result.convergence.converged, false, 'the verdict sees that it did not converge');
});

t.test('an aborted run stops before the first look', async (t) => {
  const cluster = new ScriptedCluster([41]);
  cluster.signal = AbortSignal.abort();
  await rereadDiffering(convergence(40), finals(40, { 1: { [A]: null }, 2: { [A]: PAGE } }), [KEY_A], cluster);
  t.same(cluster.lines, []);
});
