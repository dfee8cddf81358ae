// Proves the randomized election timeout of the Raft core (paper §5.2, scenario E7): a follower
// campaigns exactly after electionTick + randomInt(electionTick) ticks without hearing from a
// leader, never earlier, for every value the random source can return; the default source stays
// in [electionTick, 2 * electionTick); and with five nodes timing out from the same start, ties
// (two or more campaigning on the same tick) happen in at most 30% of the rounds. Real RawNodes
// over MemoryStorage, ticked directly; the tie test uses a seeded PRNG so it replays exactly.

import t from 'tap';
import { MemoryStorage, RawNode, StateType } from '../../src/raft/index.js';
import type { RaftConfig } from '../../src/raft/index.js';

const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 1;
const VOTERS = [1, 2, 3, 4, 5];
const TIE_ROUNDS = 1000;
const TIE_RATE_MAX = 0.3;
const TICKS_MAX = 4 * ELECTION_TICK;

function newNode(id: number, randomInt: ((n: number) => number) | undefined): RawNode {
  const config: RaftConfig = {
    id,
    electionTick: ELECTION_TICK,
    heartbeatTick: HEARTBEAT_TICK,
    storage: MemoryStorage.create({ voters: VOTERS, learners: [] }),
    maxSizePerMsgBytes: 1024 * 1024,
    maxInflightMsgs: 256,
    checkQuorum: false,
    preVote: false,
    ...(randomInt === undefined ? {} : { randomInt }),
  };
  return new RawNode(config);
}

function campaigned(rn: RawNode): boolean {
  return rn.status().softState.state !== StateType.Follower;
}

/** Ticks until the node campaigns; returns the number of ticks (bounded by TICKS_MAX). */
function ticksToCampaign(rn: RawNode): number {
  for (let tick = 1; tick <= TICKS_MAX; tick++) {
    rn.tick();
    if (campaigned(rn)) return tick;
  }
  return Infinity;
}

/** mulberry32: a tiny seeded PRNG, so the tie-rate test is deterministic. */
function seededRandomInt(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    const unit = ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    return Math.floor(unit * n);
  };
}

t.test('the timeout is electionTick plus the random draw, never less', async (tt) => {
  for (let draw = 0; draw < ELECTION_TICK; draw++) {
    const asked: number[] = [];
    const rn = newNode(1, (n) => {
      asked.push(n);
      return draw;
    });
    tt.equal(ticksToCampaign(rn), ELECTION_TICK + draw, `draw ${draw}`);
    tt.ok(asked.length > 0 && asked.every((n) => n === ELECTION_TICK), 'draws are asked in [0, electionTick)');
  }
});

t.test('the default random source stays in [electionTick, 2 * electionTick)', async (tt) => {
  for (let i = 0; i < 100; i++) {
    const ticks = ticksToCampaign(newNode(1, undefined));
    tt.ok(ticks >= ELECTION_TICK && ticks < 2 * ELECTION_TICK, `campaigned after ${ticks} ticks`);
  }
});

t.test('five nodes tie in at most 30% of the rounds', async (tt) => {
  const randomInt = seededRandomInt(42);
  let ties = 0;
  for (let round = 0; round < TIE_ROUNDS; round++) {
    const nodes = VOTERS.map((id) => newNode(id, randomInt));
    let first = 0;
    for (let tick = 1; tick <= TICKS_MAX && first === 0; tick++) {
      for (const rn of nodes) rn.tick();
      first = nodes.filter(campaigned).length;
    }
    if (first === 0) tt.fail(`round ${round}: nobody campaigned within ${TICKS_MAX} ticks`);
    if (first > 1) ties++;
  }
  tt.ok(ties / TIE_ROUNDS <= TIE_RATE_MAX, `tie rate ${ties / TIE_ROUNDS}`);
});
