// Proves that the Raft core treats impossible requests as bugs and fails loudly (an assertion),
// instead of silently corrupting its state: a follower asked directly to become leader and a
// leader asked to become candidate (scenario E11), and removing the last voter (M3). It also
// proves the expected-error side: RawNode.step refuses local message types (X3) with a coded
// RaftError. Real RawNodes over MemoryStorage; the internal transitions are reached through
// RawNode's `raft` accessor, the way etcd's own tests call becomeLeader directly.

import { AssertionError } from 'node:assert';
import t from 'tap';
import { ConfChangeType, EMPTY_BYTES, MemoryStorage, MessageType, RaftError, RawNode, StateType } from '../../src/raft/index.js';
import type { Message } from '../../src/raft/index.js';

function newNode(voters: number[]): RawNode {
  return new RawNode({
    id: 1,
    electionTick: 10,
    heartbeatTick: 1,
    storage: MemoryStorage.create({ voters, learners: [] }),
    maxSizePerMsgBytes: 1024 * 1024,
    maxInflightMsgs: 256,
    checkQuorum: false,
    preVote: false,
    randomInt: () => 0,
  });
}

function localMessage(type: MessageType): Message {
  return { type, to: 1, from: 1, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 };
}

t.test('a follower cannot become leader directly', async (tt) => {
  const rn = newNode([1, 2, 3]);
  tt.throws(() => rn.raft.becomeLeader(), AssertionError);
});

t.test('a leader cannot become candidate or pre-candidate directly', async (tt) => {
  const rn = newNode([1]);
  rn.campaign();
  tt.equal(rn.status().softState.state, StateType.Leader);
  tt.throws(() => rn.raft.becomeCandidate(), AssertionError);
  tt.throws(() => rn.raft.becomePreCandidate(), AssertionError);
});

t.test('removing the last voter is refused', async (tt) => {
  const rn = newNode([1]);
  tt.throws(() => rn.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: 1, context: EMPTY_BYTES }), AssertionError);
  tt.same(rn.status().config, { voters: [1], learners: [] }, 'configuration unchanged');
});

t.test('local message types cannot be stepped from the network', async (tt) => {
  const rn = newNode([1, 2, 3]);
  for (const type of [MessageType.Hup, MessageType.Beat, MessageType.Unreachable, MessageType.SnapStatus, MessageType.CheckQuorum]) {
    let thrown: unknown;
    try {
      rn.step(localMessage(type));
    } catch (err) {
      thrown = err;
    }
    tt.ok(thrown instanceof RaftError && thrown.code === 'step-local-message', MessageType[type]);
  }
  tt.equal(rn.status().softState.state, StateType.Follower, 'nothing happened');
});
