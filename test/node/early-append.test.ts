// A leader sends its appends before its own WAL write is durable (Raft thesis §10.2.1): with the
// leader's WAL writes held, a new entry still reaches the followers' WALs; its unwritten copy
// never completes a quorum (one follower's write is not enough), two followers' writes commit it,
// the leader applies it only once its own write is done, and then the put is applied everywhere. And
// while such a write hangs, the leader keeps sending heartbeats, so no follower campaigns. And an
// entry committed before a Ready is applied while that Ready's write is still held, and so is one
// whose followers' acknowledgements arrive only while that write is held (RawNode.takeCommittedEntries).
// With one follower down, an entry the other acknowledges during the leader's write commits once
// that write ends, with no later put to trigger it.
import t from 'tap';
import type { Test } from 'tap';
import { nodeFileLayer, type OpenMode } from '../../src/wal/index.js';
import { PassThroughFileLayer } from '../wal/helpers.js';
import { eventually, makeCluster, putCommand, putWithRetry, sleep } from './helpers.js';

/** The real file layer; writes to files under a held directory wait until it is released. */
class HoldingFileLayer extends PassThroughFileLayer {
  readonly #holds = new Map<string, { released: Promise<void>; release: () => void }>();
  readonly #paths = new Map<number, string>();

  constructor() {
    super(nodeFileLayer);
  }

  /** Holds the writes under `dir` from now on (a second hold of the same dir changes nothing). */
  hold(dir: string): void {
    if (this.#holds.has(dir)) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#holds.set(dir, { released, release });
  }

  /** Lets the writes under `dir` (every held dir when omitted) go, now and from now on. */
  release(dir?: string): void {
    for (const [held, { release }] of this.#holds) {
      if (dir !== undefined && held !== dir) continue;
      this.#holds.delete(held);
      release();
    }
  }

  /** Lets the writes waiting now go through and holds the next ones (every held dir). */
  passHeld(): void {
    for (const dir of [...this.#holds.keys()]) {
      this.release(dir);
      this.hold(dir);
    }
  }

  override async open(path: string, mode: OpenMode): Promise<number> {
    const fd = await super.open(path, mode);
    this.#paths.set(fd, path);
    return fd;
  }
  override close(fd: number): Promise<void> {
    this.#paths.delete(fd);
    return super.close(fd);
  }
  override async write(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void> {
    const path = this.#paths.get(fd);
    const hold = path === undefined ? undefined : [...this.#holds].find(([dir]) => path.startsWith(dir))?.[1];
    if (hold !== undefined) await hold.released;
    return super.write(fd, chunks, position);
  }
}

/**
 * Three members whose WAL writes can be held, after a first put that every member applied; `next`
 * is the index of the next entry. Long election timeouts by default: a held leader sends no
 * heartbeats, and the tests must end before anyone campaigns.
 */
async function settledCluster(t: Test, electionTick = 200) {
  const files = new HoldingFileLayer();
  const cluster = await makeCluster([1, 2, 3], { walFiles: files, electionTick });
  t.teardown(() => {
    files.release();
    return cluster.stopAll();
  });
  await putWithRetry(cluster, putCommand(1, 4096));
  const leader = await cluster.waitForLeader();
  const followers = [...cluster.nodes.values()].filter((node) => node !== leader);
  await eventually(() => followers.every((f) => f.status().appliedIndex === leader.status().appliedIndex), 5_000, 'followers to catch up');
  return { files, cluster, leader, followers, next: leader.status().walLastIndex + 1 };
}

t.test('followers write a new entry while the leader is still writing it', async (t) => {
  const { files, cluster, leader, followers, next } = await settledCluster(t);
  const [writing, held] = followers;

  // The leader's and one follower's writes hang: one copy of the entry on disk, of three.
  files.hold(cluster.dirs.get(leader.id)!);
  files.hold(cluster.dirs.get(held!.id)!);
  const put = leader.propose(putCommand(2, 4096));
  await eventually(() => writing!.status().walLastIndex >= next, 5_000, "the entry in the other follower's WAL");
  await eventually(() => (leader.status().peerMatch[writing!.id] ?? 0) >= next, 5_000, "that follower's acknowledgement at the leader");
  t.same(Object.keys(leader.status().peerMatch).map(Number).sort(), followers.map((f) => f.id).sort(), "the leader's status has each other member's match");
  t.same(writing!.status().peerMatch, {}, "a follower's has none");
  await eventually(() => held!.status().raftLastIndex >= next, 5_000, "the entry in the held follower's log");
  t.equal(held!.status().walLastIndex, next - 1, 'and not in its WAL');
  t.equal(leader.status().walLastIndex, next - 1, 'the leader has not written the entry yet');
  for (const node of cluster.nodes.values()) {
    t.ok(node.status().commitIndex < next, `member ${node.id} has not seen it committed: the leader's unwritten copy does not count`);
  }

  // A majority of copies on disk (both followers) commits it, the leader's write still hanging
  // (Raft thesis §10.2.1); the leader applies and answers it only once its own write is done.
  files.release(cluster.dirs.get(held!.id)!);
  await eventually(() => followers.every((f) => f.status().commitIndex >= next), 5_000, 'the followers to see it committed');
  t.equal(leader.status().walLastIndex, next - 1, 'while the leader still has not written it');
  t.ok(leader.status().appliedIndex < next, 'and has not applied it');

  files.release();
  t.same(await put, { ok: true });
  await eventually(() => [...cluster.nodes.values()].every((n) => n.status().appliedIndex >= next), 5_000, 'every member to apply it');
});

t.test('a leader whose WAL write hangs keeps its followers: heartbeats flow while it waits', async (t) => {
  // Elections after 300-600 ms; the write is held for several times that.
  const { files, cluster, leader, next } = await settledCluster(t, 30);
  const { term } = leader.status();

  files.hold(cluster.dirs.get(leader.id)!);
  const put = leader.propose(putCommand(2, 4096));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.equal(leader.status().walLastIndex, next - 1, 'the write is still held');
  for (const node of cluster.nodes.values()) {
    t.same([node.status().term, node.status().leader], [term, leader.id], `member ${node.id}: no election, same leader`);
  }

  files.release();
  t.same(await put, { ok: true });
  await eventually(() => [...cluster.nodes.values()].every((n) => n.status().appliedIndex >= next), 5_000, 'every member to apply it');
});

t.test('an entry already durable and committed is applied while the next Ready is written', async (t) => {
  const { files, cluster, leader, followers, next: a } = await settledCluster(t);

  files.hold(cluster.dirs.get(leader.id)!);
  const putA = leader.propose(putCommand(2, 4096));
  await eventually(() => followers.every((f) => f.status().walLastIndex >= a), 5_000, "entry A in both followers' WALs");
  // B waits for the leader's loop, which is held in A's write; both followers have acknowledged A.
  const putB = leader.propose(putCommand(3, 4096));
  files.passHeld();
  await eventually(() => leader.status().walLastIndex >= a, 5_000, 'A written on the leader');
  // The next Ready appends B (its write held now) and commits A, durable here since the last one.
  await eventually(() => leader.status().appliedIndex >= a, 5_000, 'the leader to apply A');
  t.equal(leader.status().walLastIndex, a, 'B is not written on the leader yet');
  t.same(await putA, { ok: true }, 'A is acknowledged while B is still being written');

  files.release();
  t.same(await putB, { ok: true }, 'B commits once its write goes through');
  await eventually(() => [...cluster.nodes.values()].every((n) => n.status().appliedIndex >= a + 1), 5_000, 'every member to apply both');
});

t.test("a put the followers acknowledge while the leader writes the next Ready is answered before that write ends", async (t) => {
  const { files, cluster, leader, followers, next: a } = await settledCluster(t);

  // A is written on the leader at once; the followers' writes hang, so nobody acknowledges it yet.
  for (const f of followers) files.hold(cluster.dirs.get(f.id)!);
  const putA = leader.propose(putCommand(2, 4096));
  await eventually(() => leader.status().walLastIndex >= a, 5_000, 'A written on the leader');
  // The leader's next Ready appends B, and its write hangs.
  files.hold(cluster.dirs.get(leader.id)!);
  const putB = leader.propose(putCommand(3, 4096));
  // B enters the leader's log in the same turn of its loop as the Ready that sends it and writes it (held).
  await eventually(() => leader.status().raftLastIndex >= a + 1, 5_000, "B in the leader's log");
  // The followers write A (and B) and acknowledge them while the leader still writes B.
  for (const f of followers) files.release(cluster.dirs.get(f.id)!);
  const answered = await Promise.race([putA, sleep(5_000).then(() => 'not answered within 5 s')]);
  t.same(answered, { ok: true }, 'A is applied and answered');
  t.equal(leader.status().walLastIndex, a, "while B's write on the leader is still held");
  t.equal(leader.status().appliedIndex, a, 'the leader applied A, and nothing past its WAL');

  files.release();
  t.same(await putB, { ok: true }, 'B commits once its write goes through');
  await eventually(() => [...cluster.nodes.values()].every((n) => n.status().appliedIndex >= a + 1), 5_000, 'every member to apply both');
});

t.test('a follower catching up applies what it receives committed only once its own WAL holds it', async (t) => {
  const { files, cluster, leader, followers, next: first } = await settledCluster(t);
  const [lagging, other] = followers;

  // One follower's writes hang while the leader and the other follower commit five puts.
  files.hold(cluster.dirs.get(lagging!.id)!);
  for (let i = 0; i < 5; i++) t.same(await leader.propose(putCommand(10 + i, 4096)), { ok: true }, `put ${i} committed without the held follower`);
  await eventually(() => other!.status().appliedIndex >= first + 4, 5_000, 'the other follower to apply them');
  // Its first write (the first put) goes through; the next Ready appends the other four and
  // learns that all five are committed, and its write is held in turn. Only the first may be
  // applied meanwhile: the store never gets ahead of its own WAL.
  files.passHeld();
  await eventually(() => lagging!.status().walLastIndex >= first, 5_000, 'the first put written on the held follower');
  let worst = -Infinity;
  const sample = setInterval(() => {
    const { appliedIndex, walLastIndex } = lagging!.status();
    worst = Math.max(worst, appliedIndex - walLastIndex);
  }, 1);
  t.teardown(() => clearInterval(sample));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const held = lagging!.status();
  t.ok(held.walLastIndex < first + 4, `the rest is not written yet (WAL to ${held.walLastIndex})`);
  t.ok(held.appliedIndex <= held.walLastIndex, `applied ${held.appliedIndex}, no further than its WAL`);
  files.release();
  await eventually(() => lagging!.status().appliedIndex >= first + 4, 5_000, 'the held follower to apply all five');
  clearInterval(sample);
  t.ok(worst <= 0, `its applied index never passed its WAL's last index (largest difference ${worst})`);
});

t.test('with one follower down, an entry acknowledged while the leader writes it commits once that write ends', async (t) => {
  const { files, cluster, leader, followers, next } = await settledCluster(t);
  const [live, down] = followers;
  await down!.stop();
  files.hold(cluster.dirs.get(leader.id)!);
  const put = leader.propose(putCommand(2, 4096));
  await eventually(() => live!.status().walLastIndex >= next, 5_000, "the entry in the live follower's WAL");
  await eventually(() => (leader.status().peerMatch[live!.id] ?? 0) >= next, 5_000, "the live follower's acknowledgement at the leader");
  files.release();
  const answered = await Promise.race([put, sleep(5_000).then(() => 'not answered within 5 s')]);
  t.same(answered, { ok: true }, 'the put commits with the leader and the live follower, no later put needed');
});
