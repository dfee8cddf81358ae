// Which of a Ready's messages may leave before the Ready is persisted, and which are heartbeats:
// the two questions the member's loop (node.ts) asks of outgoing messages. Pure functions of the
// Ready and the term and vote on disk, so the rule that makes early sends safe sits in one place.
import { MessageType, type Message, type NodeId, type Ready } from '../raft/index.js';

/**
 * Splits a Ready's messages into those that may be sent before it is persisted (`early`: a
 * leader's appends and heartbeats, whose safety does not rest on this member's disk, since a
 * follower acknowledges what *it* wrote) and the rest (`late`), in one pass. Two exceptions keep
 * everything after the fdatasync: a Ready that changes the term or
 * vote (it is not the leader of a settled term yet), and a commit index that counts entries of this
 * very Ready. The leader counts its own append toward the quorum at once, so with a single voter
 * the commit can move over entries that are not on its disk yet, and a learner must not apply
 * those before they are. With more voters a quorum's acknowledgements of this Ready's entries can
 * only be stepped after it is persisted, so their commit indexes never pass what is durable.
 */
export function splitEarlyMessages(rd: Ready, durable: { term: number; vote: NodeId }): { early: Message[]; late: Message[] } {
  if (rd.snapshot !== undefined) return { early: [], late: rd.messages };
  if (rd.hardState !== undefined && (rd.hardState.term !== durable.term || rd.hardState.vote !== durable.vote)) return { early: [], late: rd.messages };
  const durableLast = rd.entries.length > 0 ? rd.entries[0]!.index - 1 : Number.MAX_SAFE_INTEGER;
  const early: Message[] = [];
  const late: Message[] = [];
  for (const m of rd.messages) {
    if ((m.type === MessageType.App || m.type === MessageType.Heartbeat) && m.commit <= durableLast) early.push(m);
    else late.push(m);
  }
  return { early, late };
}

/** A heartbeat or its answer: the only messages stepped and sent while a Ready is being handled. */
export function isHeartbeat(m: Message): boolean {
  return m.type === MessageType.Heartbeat || m.type === MessageType.HeartbeatResp;
}
