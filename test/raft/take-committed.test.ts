// Proves RawNode.takeCommittedEntries and stepCountingDurable, the leader's early apply (src/node
// node.ts #commitWhileBusy), on three real RawNodes over MemoryStorage. While the leader's Ready
// holding entry B is out (its "fdatasync" in progress), a follower's acknowledgement of the earlier
// entry A is stepped; A is committed and handed out at once, but only up to the durable index
// given (never B, never past it), only once, and the next Ready does not carry it again; advance()
// counts it applied. It stops before a configuration change, and refuses to run outside a Ready.
// And stepped with stepCountingDurable, one follower's acknowledgement of B does not commit B on
// the strength of the leader's own unwritten copy, where a plain step would.
import t from 'tap';
import { ConfChangeType, MemoryStorage, MessageType, RawNode, type Message, type RaftConfig } from '../../src/raft/index.js';

const VOTERS = [1, 2, 3];

interface Member {
  rn: RawNode;
  storage: MemoryStorage;
}

function newMember(id: number): Member {
  const storage = MemoryStorage.create({ voters: VOTERS, learners: [] });
  const config: RaftConfig = { id, electionTick: 10, heartbeatTick: 1, storage, maxSizePerMsgBytes: 1024 * 1024, maxInflightMsgs: 256, checkQuorum: false, preVote: false };
  return { rn: new RawNode(config), storage };
}

/** Handles one whole Ready of `m` (persist, then advance) and returns its messages. */
function handleReady(m: Member): Message[] {
  const rd = m.rn.ready();
  if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
  if (rd.entries.length > 0) m.storage.append(rd.entries);
  m.rn.advance();
  return rd.messages;
}

/** Delivers messages and handles Readies until nothing moves; `hold` keeps the messages it picks undelivered. */
function settle(members: Map<number, Member>, queue: Message[] = [], hold: (m: Message) => boolean = () => false): Message[] {
  const held: Message[] = [];
  for (let rounds = 0; rounds < 100; rounds++) {
    for (const m of members.values()) if (m.rn.hasReady()) queue.push(...handleReady(m));
    if (queue.length === 0) return held;
    for (const msg of queue.splice(0)) {
      if (hold(msg)) held.push(msg);
      else members.get(msg.to)!.rn.step(msg);
    }
  }
  throw new Error('did not settle');
}

function cluster(): { members: Map<number, Member>; leader: Member } {
  const members = new Map(VOTERS.map((id) => [id, newMember(id)]));
  members.get(1)!.rn.campaign();
  settle(members);
  const leader = members.get(1)!;
  return { members, leader };
}

const payload = (text: string): Uint8Array => new TextEncoder().encode(text);

t.test("a follower's acknowledgement stepped while the next Ready is out commits and hands out the earlier entry", async (t) => {
  const { members, leader } = cluster();
  leader.rn.propose(payload('A'));
  // A reaches the followers; their answers are held back, as if still on the wire.
  const acks = settle(members, [], (m) => m.type === MessageType.AppResp);
  const indexA = leader.storage.lastIndex();
  t.ok(acks.length > 0, 'the followers answered the append of A');
  leader.rn.propose(payload('B'));
  const rdB = leader.rn.ready();
  t.same(rdB.entries.map((e) => new TextDecoder().decode(e.data)), ['B'], "the leader's Ready writes B, not yet durable");
  t.same(leader.rn.takeCommittedEntries(indexA), [], 'nothing is committed yet');
  for (const ack of acks) leader.rn.step(ack);
  t.same(leader.rn.takeCommittedEntries(indexA - 1), [], 'nothing past the durable index given');
  const taken = leader.rn.takeCommittedEntries(indexA);
  t.same(taken.map((e) => [e.index, new TextDecoder().decode(e.data)]), [[indexA, 'A']], 'A is handed out while B is being saved');
  t.same(leader.rn.takeCommittedEntries(indexA + 10), [], 'only once, and never B (not committed)');
  leader.storage.append(rdB.entries);
  leader.rn.advance();
  t.equal(leader.rn.status().applied, indexA, 'advance() counts A applied');
  const next = leader.rn.ready();
  t.notOk(next.committedEntries.some((e) => e.index === indexA), 'the next Ready does not carry A again');
  leader.rn.advance();
});

t.test('it stops before a configuration change, and runs only inside a Ready', async (t) => {
  const { members, leader } = cluster();
  t.throws(() => leader.rn.takeCommittedEntries(100), /outside a Ready/, 'outside a Ready it refuses');
  leader.rn.propose(payload('C'));
  leader.rn.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 4, context: new Uint8Array(0) });
  leader.rn.propose(payload('D'));
  const acks = settle(members, [], (m) => m.type === MessageType.AppResp);
  const last = leader.storage.lastIndex();
  leader.rn.propose(payload('E'));
  const rd = leader.rn.ready();
  for (const ack of acks) leader.rn.step(ack);
  const taken = leader.rn.takeCommittedEntries(last);
  t.same(taken.map((e) => new TextDecoder().decode(e.data)), ['C'], 'C is handed out, the configuration change and what follows wait for a Ready');
  leader.storage.append(rd.entries);
  leader.rn.advance();
  const next = leader.rn.ready();
  t.equal(next.committedEntries[0]?.index, taken[0]!.index + 1, 'the next Ready starts right after C, with the configuration change');
});

/** A leader whose Ready writing B is out, and one follower's acknowledgement of B (the other follower has not got B). */
function oneAckWhileWriting(): { leader: Member; ack: Message; indexB: number; durable: number; finish: () => void } {
  const { members, leader } = cluster();
  const durable = leader.storage.lastIndex();
  leader.rn.propose(payload('B'));
  const rd = leader.rn.ready();
  const follower = members.get(2)!;
  follower.rn.step(rd.messages.find((m) => m.type === MessageType.App && m.to === 2)!);
  const ack = handleReady(follower).find((m) => m.type === MessageType.AppResp)!;
  const finish = (): void => {
    leader.storage.append(rd.entries);
    leader.rn.advance();
  };
  return { leader, ack, indexB: rd.entries[0]!.index, durable, finish };
}

t.test("while its Ready is out, the leader's unwritten copy does not complete a quorum", async (t) => {
  const counted = oneAckWhileWriting();
  counted.leader.rn.stepCountingDurable(counted.ack, counted.durable);
  t.ok(counted.leader.rn.status().hardState.commit < counted.indexB, 'counting only what is on disk: one copy of three, B not committed');
  t.same(counted.leader.rn.takeCommittedEntries(counted.durable), [], 'nothing to hand out');
  counted.finish();
  const plain = oneAckWhileWriting();
  plain.leader.rn.step(plain.ack);
  t.equal(plain.leader.rn.status().hardState.commit, plain.indexB, 'a plain step counts the unwritten copy and commits B: why stepCountingDurable exists');
  plain.finish();
});
