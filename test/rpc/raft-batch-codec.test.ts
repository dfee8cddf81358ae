// Proves the members' RaftBatch serializer (src/rpc/raft-batch-codec.ts) against proto-loader's
// own (protobufjs, what older members sent and what every member's receiving side decodes with):
// random batches (fields absent, zero, on varint edges; messages split into random parts; empty
// and multi-byte addresses; access reports) encode to the very same bytes and decode with the
// generated type to the same fields; a MsgApp encoded as parts comes back through the batch as
// the message, its payload sent by reference (not copied into the batch); a message whose
// byteLength lies about its parts is an assertion, not a bad batch. Real protos, no mocks.
import t from 'tap';
import { decodeMessage, ENTRY_BY_REFERENCE_BYTES_MIN, encodeMessageParts, type EncodedParts } from '../../src/codec/index.js';
import { installFramedSend, wholeMessage, type RaftBatch, type RaftBatch__Output } from '../../src/proto/index.js';
import { EntryType, MessageType, type Message } from '../../src/raft/index.js';
import { loadProtos } from '../../src/rpc/protos.js';
import { serializeRaftBatch, type OutgoingRaftBatch } from '../../src/rpc/raft-batch-codec.js';
import { prng } from '../codec/prng.js';

const RANDOM_BATCHES = 200;
const method = loadProtos().peer.Raft!;
const encodeGeneric = method.requestSerialize as (batch: RaftBatch) => Buffer;
const decodeGeneric = method.requestDeserialize as (bytes: Buffer) => RaftBatch__Output;
/** Edges of protobuf varints (1 to 5 bytes) and the node id range. */
const ID_EDGES = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1f_ffff, 0x20_0000, 0xfff_ffff, 0x1000_0000, 0xffff_ffff];
// As a member's transport does: entries' data is then sent by reference (a split message).
installFramedSend();
const ADDRESSES = ['', '127.0.0.1:7001', '[::1]:65535', 'hôte-ü.example:1', 'x'.repeat(200)];

function concat(m: EncodedParts): Buffer {
  return Buffer.concat(m.parts);
}

/** `length` bytes split into 1 to 4 parts at random points (a part may be empty). */
function randomParts(next: () => number, length: number): EncodedParts {
  const bytes = Uint8Array.from({ length }, () => next() & 0xff);
  const cuts = Array.from({ length: next() % 4 }, () => next() % (length + 1)).sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, length]) {
    parts.push(bytes.subarray(from, cut));
    from = cut;
  }
  return { parts, byteLength: length };
}

function randomBatch(next: () => number): OutgoingRaftBatch {
  const pick = <T>(values: T[]): T => values[next() % values.length]!;
  const batch: OutgoingRaftBatch = {};
  if (next() % 5 !== 0) batch.from = pick(ID_EDGES);
  if (next() % 5 !== 0) batch.to = pick(ID_EDGES);
  if (next() % 5 !== 0) batch.messages = Array.from({ length: next() % 5 }, () => randomParts(next, pick([0, 1, 127, 128, 300, 20_000, 70_000])));
  if (next() % 5 !== 0) batch.fromAddress = pick(ADDRESSES);
  if (next() % 3 === 0) batch.accessReport = Uint8Array.from({ length: pick([0, 9, 200]) }, () => next() & 0xff);
  return batch;
}

/** The same batch as proto-loader takes it: each message one buffer. */
function asGeneric(batch: OutgoingRaftBatch): RaftBatch {
  const { messages, ...rest } = batch;
  return messages === undefined ? rest : { ...rest, messages: messages.map(concat) };
}

t.test('random batches: the same bytes as proto-loader, decoding to the same fields', async (t) => {
  const next = prng(7);
  let differing = 0;
  let misread = 0;
  for (let n = 0; n < RANDOM_BATCHES; n++) {
    const batch = randomBatch(next);
    const ours = wholeMessage(serializeRaftBatch(batch));
    if (Buffer.compare(ours, encodeGeneric(asGeneric(batch))) !== 0) differing++;
    const decoded = decodeGeneric(ours);
    const same =
      decoded.from === (batch.from ?? 0) &&
      decoded.to === (batch.to ?? 0) &&
      decoded.fromAddress === (batch.fromAddress ?? '') &&
      decoded.messages.length === (batch.messages?.length ?? 0) &&
      decoded.messages.every((m, i) => Buffer.compare(m, concat(batch.messages![i]!)) === 0) &&
      Buffer.compare(decoded.accessReport, batch.accessReport ?? Buffer.alloc(0)) === 0;
    if (!same) misread++;
  }
  t.equal(differing, 0, `${RANDOM_BATCHES} random batches encode to proto-loader's bytes`);
  t.equal(misread, 0, 'and the generated type reads back every field');
});

t.test('the batch the transport sends: every field set, an access report alone', async (t) => {
  const full: OutgoingRaftBatch = { from: 1, to: 2, messages: [randomParts(prng(1), 50)], fromAddress: '127.0.0.1:7001' };
  t.same(wholeMessage(serializeRaftBatch(full)), encodeGeneric(asGeneric(full)));
  const report: OutgoingRaftBatch = { from: 3, to: 1, messages: [], fromAddress: '127.0.0.1:7003', accessReport: Uint8Array.of(6, 1, 2) };
  t.same(wholeMessage(serializeRaftBatch(report)), encodeGeneric(asGeneric(report)));
});

t.test('a MsgApp encoded as parts, large payload by reference, comes back through the batch', async (t) => {
  const payload = Uint8Array.from({ length: 3 * ENTRY_BY_REFERENCE_BYTES_MIN }, (_, i) => (i * 7) & 0xff);
  const m: Message = {
    type: MessageType.App, to: 2, from: 1, term: 4, logTerm: 4, index: 40, commit: 39, reject: false, rejectHint: 0,
    entries: [
      { term: 4, index: 41, type: EntryType.Normal, data: payload },
      { term: 4, index: 42, type: EntryType.Normal, data: Uint8Array.of(1, 2, 3) },
    ],
  };
  const parts = encodeMessageParts(m);
  t.ok(parts.parts.includes(payload), 'the payload was not copied before the batch');
  const head = serializeRaftBatch({ from: 1, to: 2, messages: [parts, parts], fromAddress: '' });
  t.ok(head.byteLength < 200, `the batch copies only the fields around the payloads (${head.byteLength} bytes)`);
  const decoded = decodeGeneric(wholeMessage(head));
  t.equal(decoded.messages.length, 2);
  for (const bytes of decoded.messages) t.same(decodeMessage(bytes), m);
});

t.test('a message whose byteLength is not its parts total is a bug, caught', async (t) => {
  const lying: EncodedParts = { parts: [Uint8Array.of(1, 2, 3)], byteLength: 2 };
  t.throws(() => serializeRaftBatch({ from: 1, to: 2, messages: [lying], fromAddress: 'a' }), { code: 'ERR_ASSERTION' });
  const short: EncodedParts = { parts: [Uint8Array.of(1)], byteLength: 2 };
  t.throws(() => serializeRaftBatch({ from: 1, to: 2, messages: [short] }), { code: 'ERR_ASSERTION' });
});
