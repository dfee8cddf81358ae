// Human-readable, deterministic one-line descriptions of the Raft core's data, in etcd-raft's
// style (its `DescribeMessage`, `DescribeReady`, ...). The scripted interaction tests compare
// these strings against expected output and the simulator writes them into replayable traces,
// so the format is part of the test contract: change it only together with the testdata files.
//
// Everything here is pure: no state, no I/O, and input objects are never modified.

import { decodeConfChange } from './conf-change.js';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  ProgressState,
  StateType,
  isEmptyHardState,
  isEmptySnapshot,
} from './types.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ProgressStatus,
  ReadState,
  Ready,
  Snapshot,
  SoftState,
  Status,
} from './types.js';

/** Payload bytes shown as text before the rest is elided (the byte count is always shown then). */
const PAYLOAD_TEXT_PREVIEW_BYTES_MAX = 32;
/** Payload bytes shown as hex before the rest is elided; hex takes two characters per byte. */
const PAYLOAD_HEX_PREVIEW_BYTES_MAX = 16;
/** Entries listed in one message line before the middle ones are summarized as a count. */
const MESSAGE_ENTRIES_LISTED_MAX = 8;
/** Entries listed from the head of a long message (the rest of the listed ones come from the tail). */
const MESSAGE_ENTRIES_HEAD = 5;

const PRINTABLE_FIRST = 0x20;
const PRINTABLE_LAST = 0x7e;

function isPrintable(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b < PRINTABLE_FIRST || b > PRINTABLE_LAST) return false;
  }
  return true;
}

/** Printable ASCII bytes as a string (the caller checked they are printable). */
function toText(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/**
 * A payload as short quoted text when every byte is printable ASCII, as `0x`-hex otherwise.
 * Long payloads are cut and followed by their full size, so that 32 MiB entries stay one line.
 */
export function describePayload(bytes: Uint8Array): string {
  if (isPrintable(bytes)) {
    if (bytes.byteLength <= PAYLOAD_TEXT_PREVIEW_BYTES_MAX) return JSON.stringify(toText(bytes));
    const head = toText(bytes.subarray(0, PAYLOAD_TEXT_PREVIEW_BYTES_MAX));
    return `${JSON.stringify(head)}...(${bytes.byteLength} bytes)`;
  }
  if (bytes.byteLength <= PAYLOAD_HEX_PREVIEW_BYTES_MAX) return `0x${toHex(bytes)}`;
  return `0x${toHex(bytes.subarray(0, PAYLOAD_HEX_PREVIEW_BYTES_MAX))}...(${bytes.byteLength} bytes)`;
}

/** A node list as etcd prints Go slices: `[1 2 3]`. */
function describeIds(ids: readonly NodeId[]): string {
  return `[${ids.join(' ')}]`;
}

/** `v2` (add voter), `l3` (add learner), `r2` (remove), as etcd's ConfChangesToString. */
export function describeConfChange(cc: ConfChange): string {
  switch (cc.type) {
    case ConfChangeType.AddVoter:
      return `v${cc.nodeId}`;
    case ConfChangeType.AddLearner:
      return `l${cc.nodeId}`;
    case ConfChangeType.RemoveNode:
      return `r${cc.nodeId}`;
  }
}

function describeConfChangeData(data: Uint8Array): string {
  // A malformed conf change entry is a bug elsewhere; a description must still not throw, so
  // that the trace which shows the bug can be written.
  try {
    return describeConfChange(decodeConfChange(data));
  } catch {
    return `<undecodable ${describePayload(data)}>`;
  }
}

/** `1/11 EntryNormal "foo"`: term/index, type, payload (a decoded change for conf changes). */
export function describeEntry(e: Entry): string {
  const type = `Entry${EntryType[e.type] ?? e.type}`;
  const payload = e.type === EntryType.ConfChange ? describeConfChangeData(e.data) : describePayload(e.data);
  return `${e.term}/${e.index} ${type} ${payload}`;
}

/** One line per entry, each ending in a newline (empty string for no entries). */
export function describeEntries(es: readonly Entry[]): string {
  return es.map((e) => `${describeEntry(e)}\n`).join('');
}

export function describeMessageType(type: MessageType): string {
  return `Msg${MessageType[type] ?? type}`;
}

export function describeConfState(cs: ConfState): string {
  return `Voters:${describeIds(cs.voters)} Learners:${describeIds(cs.learners)}`;
}

/** `Index:11 Term:2 ConfState:Voters:[1 2 3] Learners:[]` (the data is opaque and not shown). */
export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`;
}

function describeMessageEntries(es: readonly Entry[]): string {
  if (es.length <= MESSAGE_ENTRIES_LISTED_MAX) return es.map(describeEntry).join(', ');
  const tailCount = MESSAGE_ENTRIES_LISTED_MAX - MESSAGE_ENTRIES_HEAD;
  const head = es.slice(0, MESSAGE_ENTRIES_HEAD).map(describeEntry);
  const tail = es.slice(es.length - tailCount).map(describeEntry);
  const skipped = es.length - MESSAGE_ENTRIES_LISTED_MAX;
  return [...head, `...${skipped} more...`, ...tail].join(', ');
}

function describeNode(id: NodeId): string {
  return id === NONE ? 'None' : String(id);
}

/**
 * One line, etcd's format: `1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal "foo"]`.
 * `Log:` is logTerm/index; rejections show `Rejected (Hint: N)`; zero commits are left out.
 */
export function describeMessage(m: Message): string {
  let out = `${describeNode(m.from)}->${describeNode(m.to)} ${describeMessageType(m.type)} Term:${m.term}`;
  out += ` Log:${m.logTerm}/${m.index}`;
  if (m.reject) out += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) out += ` Commit:${m.commit}`;
  if (m.entries.length > 0) out += ` Entries:[${describeMessageEntries(m.entries)}]`;
  if (m.context !== undefined && m.context.byteLength > 0) out += ` Context:${describePayload(m.context)}`;
  if (m.snapshot !== undefined && !isEmptySnapshot(m.snapshot)) out += ` Snapshot:[${describeSnapshot(m.snapshot)}]`;
  return out;
}

/** `Term:2 Vote:1 Commit:5` (the vote is left out when there is none, as etcd does). */
export function describeHardState(hs: HardState): string {
  const vote = hs.vote === NONE ? '' : ` Vote:${hs.vote}`;
  return `Term:${hs.term}${vote} Commit:${hs.commit}`;
}

export function describeStateType(state: StateType): string {
  return `State${StateType[state] ?? state}`;
}

export function describeProgressState(state: ProgressState): string {
  return `State${ProgressState[state] ?? state}`;
}

/** `Lead:1 State:StateLeader`. */
export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.leader} State:${describeStateType(ss.state)}`;
}

function describeReadState(rs: ReadState): string {
  return `Index:${rs.index} RequestCtx:${describePayload(rs.requestCtx)}`;
}

/**
 * A Ready as etcd prints it: a `Ready MustSync=...:` header, then the parts that are present,
 * one per line (entries and messages one per line under their own heading). Every line ends in
 * a newline; an empty Ready is `<empty Ready>` with no newline, as in etcd.
 */
export function describeReady(rd: Ready): string {
  let body = '';
  if (rd.softState !== undefined) body += `${describeSoftState(rd.softState)}\n`;
  if (rd.hardState !== undefined && !isEmptyHardState(rd.hardState)) {
    body += `HardState ${describeHardState(rd.hardState)}\n`;
  }
  if (rd.readStates.length > 0) body += `ReadStates [${rd.readStates.map(describeReadState).join(', ')}]\n`;
  if (rd.entries.length > 0) body += `Entries:\n${describeEntries(rd.entries)}`;
  if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) body += `Snapshot ${describeSnapshot(rd.snapshot)}\n`;
  if (rd.committedEntries.length > 0) body += `CommittedEntries:\n${describeEntries(rd.committedEntries)}`;
  if (rd.messages.length > 0) body += `Messages:\n${rd.messages.map((m) => `${describeMessage(m)}\n`).join('')}`;
  if (body === '') return '<empty Ready>';
  return `Ready MustSync=${rd.mustSync}:\n${body}`;
}

/**
 * etcd's Progress.String(): `StateReplicate match=11 next=12` followed by the flags that apply
 * (`learner`, `pendingSnap=N`, `inactive`, `inflight=N[B bytes]`).
 */
export function describeProgress(pr: ProgressStatus): string {
  let out = `${describeProgressState(pr.state)} match=${pr.match} next=${pr.next}`;
  if (pr.isLearner) out += ' learner';
  if (pr.pendingSnapshot !== 0) out += ` pendingSnap=${pr.pendingSnapshot}`;
  if (!pr.recentActive) out += ' inactive';
  if (pr.inflightCount > 0) out += ` inflight=${pr.inflightCount}[${pr.inflightBytes} bytes]`;
  return out;
}

/**
 * A status: one summary line, then (on a leader) one `ID: progress` line per member in id order.
 * Every line ends in a newline.
 */
export function describeStatus(status: Status): string {
  const ss = status.softState;
  let out = `${status.id}: ${describeStateType(ss.state)} Lead:${ss.leader} ${describeHardState(status.hardState)}`;
  out += ` Applied:${status.applied}`;
  if (status.leadTransferee !== NONE) out += ` LeadTransferee:${status.leadTransferee}`;
  out += ` ${describeConfState(status.config)}\n`;
  const ids = [...status.progress.keys()].sort((a, b) => a - b);
  for (const id of ids) out += `${id}: ${describeProgress(status.progress.get(id)!)}\n`;
  return out;
}
