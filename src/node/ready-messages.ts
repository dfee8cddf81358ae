// Which of a Ready's messages may leave before the Ready is persisted, which are heartbeats, and
// which of its committed entries may be applied before it is persisted: the questions the
// member's loop (node.ts) asks while a Ready is written. Pure functions of the Ready and of what
// is on disk, so the rules that make those early steps safe sit in one place.
import { MessageType, type Entry, type Message, type NodeId, type Ready } from '../raft/index.js';

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
  const durableLast = indexBeforeEntries(rd);
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

/**
 * Splits a Ready's committed entries into those this member holds durably already (`durable`: at
 * or below the WAL's last index before the Ready, and below the first entry the Ready writes, which
 * may overwrite a tail the WAL still holds) and the rest, which become durable only once the
 * Ready is written. A Ready with a snapshot has nothing durable: the snapshot replaces the log.
 * Applying `durable` while the Ready is written never puts the store ahead of its own WAL.
 */
export function splitCommittedByDurability(rd: Ready, walLastIndex: number): { durable: Entry[]; rest: Entry[] } {
  const entries = rd.committedEntries;
  const durableLast = rd.snapshot !== undefined ? 0 : Math.min(walLastIndex, indexBeforeEntries(rd));
  let count = 0;
  while (count < entries.length && entries[count]!.index <= durableLast) count++;
  if (count === 0) return { durable: [], rest: entries };
  return { durable: entries.slice(0, count), rest: entries.slice(count) };
}

/**
 * While `rd` is persisted, the highest index whose committed entry may be applied ahead of the
 * next Ready (RawNode.takeCommittedEntries), beside the WAL's durable last index: below the first
 * entry `rd` writes. Undefined when nothing may: `rd` installs a snapshot, or some of its own
 * committed entries wait for its save (`rest`), which must be applied first.
 */
export function earlyApplyLimit(rd: Ready, rest: Entry[]): number | undefined {
  if (rd.snapshot !== undefined || rest.length > 0) return undefined;
  return indexBeforeEntries(rd);
}

/** The index before the first entry `rd` writes (which may overwrite a tail); Infinity when it writes none. */
function indexBeforeEntries(rd: Ready): number {
  return rd.entries.length > 0 ? rd.entries[0]!.index - 1 : Infinity;
}
