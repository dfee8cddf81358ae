// Codecs of the Raft core's records: log entries and hard state (WAL records), snapshot metadata
// (WAL snapshot markers), and peer messages (the network). Layouts, each a msgpack array whose
// first element is the FormatTag (field order is the wire format: append, never reorder):
//   Entry            [1, term, index, type, data]
//   HardState        [2, term, vote, commit]
//   SnapshotMetadata [3, index, term, voters[], learners[]]
//   Message          [4, type, to, from, term, logTerm, index, entries[], commit,
//                     snapshot | nil, reject, rejectHint, context | nil]
//                    where each entry is [term, index, type, data] and a snapshot is
//                    [index, term, voters[], learners[], data].
// Decoded `data`, `context` and snapshot data are views into the input bytes (no copies).

import {
  EntryType,
  MessageType,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
} from '../raft/index.js';
import {
  readArray,
  readBool,
  readBytes,
  readEnum,
  readNodeId,
  readNodeIds,
  readOptional,
  readTuple,
  readUint,
} from './fields.js';
import { FormatTag, packTuple, unpackTuple } from './msgpack.js';

const ENTRY_TYPE_MAX = EntryType.ConfChange;
const MESSAGE_TYPE_MAX = MessageType.PreVoteResp;
/** Field counts, not counting the format tag that leads a top-level record. */
const ENTRY_FIELDS = 4;
const HARD_STATE_FIELDS = 3;
const SNAPSHOT_META_FIELDS = 4;
const SNAPSHOT_FIELDS = SNAPSHOT_META_FIELDS + 1;
const MESSAGE_FIELDS = 12;

// ---- Entry ----

function entryFields(e: Entry, path: string): unknown[] {
  return [
    readUint(e.term, `${path}.term`),
    readUint(e.index, `${path}.index`),
    readEnum(e.type, 0, ENTRY_TYPE_MAX, `${path}.type`),
    readBytes(e.data, `${path}.data`),
  ];
}

function readEntryFields(fields: unknown[], offset: number, path: string): Entry {
  return {
    term: readUint(fields[offset], `${path}.term`),
    index: readUint(fields[offset + 1], `${path}.index`),
    type: readEnum(fields[offset + 2], 0, ENTRY_TYPE_MAX, `${path}.type`) as EntryType,
    data: readBytes(fields[offset + 3], `${path}.data`),
  };
}

export function encodeEntry(e: Entry): Uint8Array {
  return packTuple([FormatTag.Entry, ...entryFields(e, 'entry')], e.data.byteLength);
}

export function decodeEntry(bytes: Uint8Array): Entry {
  const tuple = readTuple(unpackTuple(bytes, FormatTag.Entry, 'entry'), 1 + ENTRY_FIELDS, 'entry');
  return readEntryFields(tuple, 1, 'entry');
}

// ---- HardState ----

export function encodeHardState(h: HardState): Uint8Array {
  const tuple = [
    FormatTag.HardState,
    readUint(h.term, 'hardState.term'),
    readNodeId(h.vote, 'hardState.vote'),
    readUint(h.commit, 'hardState.commit'),
  ];
  return packTuple(tuple, 0);
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const t = readTuple(unpackTuple(bytes, FormatTag.HardState, 'hardState'), 1 + HARD_STATE_FIELDS, 'hardState');
  return {
    term: readUint(t[1], 'hardState.term'),
    vote: readNodeId(t[2], 'hardState.vote'),
    commit: readUint(t[3], 'hardState.commit'),
  };
}

// ---- SnapshotMetadata ----

function snapshotMetaFields(m: SnapshotMetadata, path: string): unknown[] {
  return [
    readUint(m.index, `${path}.index`),
    readUint(m.term, `${path}.term`),
    readNodeIds(m.confState.voters, `${path}.confState.voters`),
    readNodeIds(m.confState.learners, `${path}.confState.learners`),
  ];
}

function readSnapshotMetaFields(fields: unknown[], offset: number, path: string): SnapshotMetadata {
  const confState: ConfState = {
    voters: readNodeIds(fields[offset + 2], `${path}.confState.voters`),
    learners: readNodeIds(fields[offset + 3], `${path}.confState.learners`),
  };
  return {
    index: readUint(fields[offset], `${path}.index`),
    term: readUint(fields[offset + 1], `${path}.term`),
    confState,
  };
}

export function encodeSnapshotMeta(m: SnapshotMetadata): Uint8Array {
  return packTuple([FormatTag.SnapshotMetadata, ...snapshotMetaFields(m, 'snapshotMeta')], 0);
}

export function decodeSnapshotMeta(bytes: Uint8Array): SnapshotMetadata {
  const what = 'snapshotMeta';
  const tuple = readTuple(unpackTuple(bytes, FormatTag.SnapshotMetadata, what), 1 + SNAPSHOT_META_FIELDS, what);
  return readSnapshotMetaFields(tuple, 1, what);
}

// ---- Message ----

function snapshotFields(s: Snapshot, path: string): unknown[] {
  return [...snapshotMetaFields(s.metadata, `${path}.metadata`), readBytes(s.data, `${path}.data`)];
}

function readSnapshot(value: unknown, path: string): Snapshot {
  const fields = readTuple(value, SNAPSHOT_FIELDS, path);
  return { metadata: readSnapshotMetaFields(fields, 0, `${path}.metadata`), data: readBytes(fields[4], `${path}.data`) };
}

export function encodeMessage(m: Message): Uint8Array {
  const entries = readArray(m.entries, 'message.entries') as Entry[];
  const entryTuples = entries.map((e, i) => entryFields(e, `message.entries[${i}]`));
  const tuple = [
    FormatTag.Message,
    readEnum(m.type, 0, MESSAGE_TYPE_MAX, 'message.type'),
    readNodeId(m.to, 'message.to'),
    readNodeId(m.from, 'message.from'),
    readUint(m.term, 'message.term'),
    readUint(m.logTerm, 'message.logTerm'),
    readUint(m.index, 'message.index'),
    entryTuples,
    readUint(m.commit, 'message.commit'),
    m.snapshot === undefined ? null : snapshotFields(m.snapshot, 'message.snapshot'),
    readBool(m.reject, 'message.reject'),
    readUint(m.rejectHint, 'message.rejectHint'),
    m.context === undefined ? null : readBytes(m.context, 'message.context'),
  ];
  // Every field is checked by now, so the sizes below are real byte lengths.
  let binaryBytes = (m.snapshot?.data.byteLength ?? 0) + (m.context?.byteLength ?? 0);
  for (const e of entries) binaryBytes += e.data.byteLength;
  return packTuple(tuple, binaryBytes);
}

export function decodeMessage(bytes: Uint8Array): Message {
  const t = readTuple(unpackTuple(bytes, FormatTag.Message, 'message'), 1 + MESSAGE_FIELDS, 'message');
  const entries = readArray(t[7], 'message.entries').map((value, i) => {
    const path = `message.entries[${i}]`;
    return readEntryFields(readTuple(value, ENTRY_FIELDS, path), 0, path);
  });
  const message: Message = {
    type: readEnum(t[1], 0, MESSAGE_TYPE_MAX, 'message.type') as MessageType,
    to: readNodeId(t[2], 'message.to'),
    from: readNodeId(t[3], 'message.from'),
    term: readUint(t[4], 'message.term'),
    logTerm: readUint(t[5], 'message.logTerm'),
    index: readUint(t[6], 'message.index'),
    entries,
    commit: readUint(t[8], 'message.commit'),
    reject: readBool(t[10], 'message.reject'),
    rejectHint: readUint(t[11], 'message.rejectHint'),
  };
  const snapshot = readOptional(t[9], readSnapshot, 'message.snapshot');
  if (snapshot !== undefined) message.snapshot = snapshot;
  const context = readOptional(t[12], readBytes, 'message.context');
  if (context !== undefined) message.context = context;
  return message;
}
