// Per-seed parameters. Each seed draws its own Raft configuration and workload shape, so a batch
// of seeds covers tiny and large messages, narrow and wide inflight windows, pre-vote and
// check-quorum on and off, eager and batched Ready handling.
import type { Prng } from './prng.js';
import type { SimParams } from './types.js';

/** Election timeouts drawn per seed, in ticks. */
const ELECTION_TICK_MIN = 6;
const ELECTION_TICK_MAX = 14;
const HEARTBEAT_TICK_MAX = 3;
/** Most append messages in flight per follower. */
const INFLIGHT_MSGS_MAX = 8;
/** A "tiny" message limit: every entry goes alone in its own append. */
const TINY_MSG_BYTES = 1;
/** Payload padding cap: entries up to this size are larger than small message limits. */
const PAYLOAD_PADDING_BYTES_MAX = 600;

export function drawParams(prng: Prng): SimParams {
  const electionTick = prng.range(ELECTION_TICK_MIN, ELECTION_TICK_MAX);
  const sizeChoice = prng.int(3);
  const maxSizePerMsgBytes = sizeChoice === 0 ? TINY_MSG_BYTES : sizeChoice === 1 ? prng.range(64, 512) : 64 * 1024;
  return {
    electionTick,
    heartbeatTick: prng.range(1, Math.min(HEARTBEAT_TICK_MAX, electionTick - 1)),
    maxSizePerMsgBytes,
    maxInflightMsgs: prng.range(1, INFLIGHT_MSGS_MAX),
    maxInflightBytes: prng.chance(0.25) ? prng.range(256, 4096) : 0,
    maxCommittedSizePerReadyBytes: prng.chance(0.25) ? prng.range(1, 256) : 0,
    preVote: prng.chance(0.5),
    checkQuorum: prng.chance(0.5),
    proposalRate: 0.2 + 0.6 * prng.float(),
    proposalBatchMax: prng.range(1, 6),
    payloadPaddingMax: prng.chance(0.3) ? PAYLOAD_PADDING_BYTES_MAX : 0,
    eagerReadyRate: prng.pick([0.2, 0.6, 1]),
    snapshotEveryEntries: prng.range(8, 120),
    compactKeepEntries: prng.range(0, 6),
    membershipChanges: prng.chance(0.6),
    leaderTransfers: prng.chance(0.6),
  };
}
