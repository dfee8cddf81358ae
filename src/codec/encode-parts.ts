// Raft messages and entries encoded without copying their payloads (issue 11 item 4, one copy
// per hop). encodeMessage and encodeEntry pack every entry's data into the record's buffer: the
// leader encoded each MsgApp once per follower (a 1 MiB page going to two followers was copied
// into two msgpack records, then by protobufjs into two RaftBatches, then by grpc-js into two
// frames), and every member copied each entry once more into its WAL record before the writev.
// `encodeMessageParts` and `encodeEntryParts` yield the same bytes as a list of buffers instead:
// the small fields and each entry's header written into one small buffer, and every large entry's
// data by reference, as the entry holds it. The RaftBatch serializer (src/rpc/raft-batch-codec.ts)
// writes a message's parts into the batch it hands grpc-js, so a payload is copied once per
// follower into its batch, which grpc-js sends as it is (src/proto framed-send.ts); the WAL hands an entry's
// parts to its writev (src/wal), so the payload goes to the kernel from where it already is.
//
// The concatenated parts are byte for byte encodeMessage's / encodeEntry's result (the wire and
// disk formats are unchanged, the decoders read both, and a member of an older build reads them):
// msgpack encodings chosen as msgpackr 2.1 chooses them with the project's Packr options
// (msgpack.ts: `useRecords: false`, no float32), i.e. the smallest integer form up to 2^32 and a
// float64 above, the smallest array and bin headers. encode-parts.test.ts compares the encoders
// on random messages and entries and on every boundary of those forms.
//
// Ownership: the parts that are entries' data are those very buffers, kept until the caller is
// done with the parts; the Raft log never modifies an entry's data (Transport.send's contract).
import { EntryType, MessageType, type Entry, type Message } from '../raft/index.js';
import { readArray, readBool, readBytes, readEnum, readNodeId, readUint } from './fields.js';
import { BIN16, BIN32, BIN8, CONTAINER_HEADER_BYTES_MAX, FormatTag, NUMBER_BYTES_MAX } from './msgpack.js';
import { encodeEntry, encodeMessage } from './raft-codec.js';

/** An encoding's bytes as buffers in order; `byteLength` is their total. */
export interface EncodedParts {
  parts: Uint8Array[];
  byteLength: number;
}

/**
 * Entries whose data is at least this large travel by reference; smaller ones are copied inline
 * with the headers, where one more small copy costs less than a part of its own.
 */
export const ENTRY_BY_REFERENCE_BYTES_MIN = 16 * 1024;

/** Elements of the Message record (the format tag included) and of an entry tuple (raft-codec.ts). */
const MESSAGE_ELEMENTS = 13;
const ENTRY_ELEMENTS = 4;
/** An Entry record (encodeEntry) is the entry tuple behind its format tag. */
const ENTRY_RECORD_ELEMENTS = 1 + ENTRY_ELEMENTS;
/** msgpack type bytes (the spec's names). */
const FIXARRAY = 0x90;
/** Arrays shorter than this have a one-byte header (fixarray). */
const FIXARRAY_END = 0x10;
const ARRAY16 = 0xdc;
const ARRAY32 = 0xdd;
const NIL = 0xc0;
const FALSE = 0xc2;
const TRUE = 0xc3;
const UINT8 = 0xcc;
const UINT16 = 0xcd;
const UINT32 = 0xce;
const FLOAT64 = 0xcb;
/** msgpackr writes integers below this as a positive fixint (with `useRecords: false`). */
const FIXINT_END = 0x80;
const UINT8_END = 0x100;
const UINT16_END = 0x10000;
const UINT32_MAX = 0xffff_ffff;

/**
 * `m` encoded as encodeMessage encodes it, with the data of every entry of at least
 * ENTRY_BY_REFERENCE_BYTES_MIN as a part of its own (not copied). A message with no such entry,
 * or with a snapshot, is one part: encodeMessage's own result. Throws what encodeMessage throws.
 */
export function encodeMessageParts(m: Message): EncodedParts {
  const entries = readArray(m.entries, 'message.entries') as Entry[];
  if (m.snapshot !== undefined || !entries.some(hasLargeData)) {
    const bytes = encodeMessage(m);
    return { parts: [bytes], byteLength: bytes.byteLength };
  }
  const writer = new HeaderWriter(headerBytesMax(m, entries));
  writer.arrayHeader(MESSAGE_ELEMENTS);
  writer.uint(FormatTag.Message);
  writer.uint(readEnum(m.type, 0, MessageType.PreVoteResp, 'message.type'));
  writer.uint(readNodeId(m.to, 'message.to'));
  writer.uint(readNodeId(m.from, 'message.from'));
  writer.uint(readUint(m.term, 'message.term'));
  writer.uint(readUint(m.logTerm, 'message.logTerm'));
  writer.uint(readUint(m.index, 'message.index'));
  writer.arrayHeader(entries.length);
  entries.forEach((e, i) => {
    writer.arrayHeader(ENTRY_ELEMENTS);
    writeEntryFields(writer, e, `message.entries[${i}]`);
  });
  writer.uint(readUint(m.commit, 'message.commit'));
  writer.nil(); // no snapshot (a message with one took encodeMessage above)
  writer.bool(readBool(m.reject, 'message.reject'));
  writer.uint(readUint(m.rejectHint, 'message.rejectHint'));
  if (m.context === undefined) writer.nil();
  else writer.bin(readBytes(m.context, 'message.context'));
  return writer.finish();
}

/**
 * `e` encoded as encodeEntry encodes it (the WAL's entry record body), its data a part of its own
 * when it is at least ENTRY_BY_REFERENCE_BYTES_MIN; else one part, encodeEntry's own result.
 * Throws what encodeEntry throws.
 */
export function encodeEntryParts(e: Entry): EncodedParts {
  if (!hasLargeData(e)) {
    const bytes = encodeEntry(e);
    return { parts: [bytes], byteLength: bytes.byteLength };
  }
  const writer = new HeaderWriter(CONTAINER_HEADER_BYTES_MAX + 4 * NUMBER_BYTES_MAX + CONTAINER_HEADER_BYTES_MAX);
  writer.arrayHeader(ENTRY_RECORD_ELEMENTS);
  writer.uint(FormatTag.Entry);
  writeEntryFields(writer, e, 'entry');
  return writer.finish();
}

/** An entry tuple's fields (term, index, type, data), checked as raft-codec.ts checks them. */
function writeEntryFields(writer: HeaderWriter, e: Entry, path: string): void {
  writer.uint(readUint(e.term, `${path}.term`));
  writer.uint(readUint(e.index, `${path}.index`));
  writer.uint(readEnum(e.type, 0, EntryType.ConfChange, `${path}.type`));
  const data = readBytes(e.data, `${path}.data`);
  if (data.byteLength >= ENTRY_BY_REFERENCE_BYTES_MIN) writer.binByReference(data);
  else writer.bin(data);
}

/** Whether `e` (not yet checked) has data that goes by reference. */
function hasLargeData(e: Entry): boolean {
  return e instanceof Object && e.data instanceof Uint8Array && e.data.byteLength >= ENTRY_BY_REFERENCE_BYTES_MIN;
}

/** An upper bound of the bytes written inline for `m` (everything but by-reference data). */
function headerBytesMax(m: Message, entries: Entry[]): number {
  let bytes = CONTAINER_HEADER_BYTES_MAX + 7 * NUMBER_BYTES_MAX + CONTAINER_HEADER_BYTES_MAX;
  for (const e of entries) {
    bytes += CONTAINER_HEADER_BYTES_MAX + 3 * NUMBER_BYTES_MAX + CONTAINER_HEADER_BYTES_MAX;
    if (!hasLargeData(e) && e instanceof Object && e.data instanceof Uint8Array) bytes += e.data.byteLength;
  }
  const contextBytes = m.context instanceof Uint8Array ? m.context.byteLength : 0;
  return bytes + 4 * NUMBER_BYTES_MAX + CONTAINER_HEADER_BYTES_MAX + contextBytes;
}

/** Writes msgpack into one buffer and collects parts: runs of that buffer and by-reference data. */
class HeaderWriter {
  readonly #buffer: Uint8Array;
  readonly #view: DataView;
  readonly #parts: Uint8Array[] = [];
  #at = 0;
  /** Where the run of the buffer not yet made a part starts. */
  #runStart = 0;
  #byteLength = 0;

  constructor(bytesMax: number) {
    this.#buffer = new Uint8Array(bytesMax);
    this.#view = new DataView(this.#buffer.buffer);
  }

  uint(value: number): void {
    const b = this.#buffer;
    if (value < FIXINT_END) {
      b[this.#at++] = value;
    } else if (value < UINT8_END) {
      b[this.#at++] = UINT8;
      b[this.#at++] = value;
    } else if (value < UINT16_END) {
      b[this.#at++] = UINT16;
      this.#view.setUint16(this.#at, value);
      this.#at += 2;
    } else if (value <= UINT32_MAX) {
      b[this.#at++] = UINT32;
      this.#view.setUint32(this.#at, value);
      this.#at += 4;
    } else {
      // msgpackr writes integers past 32 bits as float64 (exact for the safe integers readUint admits).
      b[this.#at++] = FLOAT64;
      this.#view.setFloat64(this.#at, value);
      this.#at += 8;
    }
  }

  bool(value: boolean): void {
    this.#buffer[this.#at++] = value ? TRUE : FALSE;
  }

  nil(): void {
    this.#buffer[this.#at++] = NIL;
  }

  arrayHeader(length: number): void {
    if (length < FIXARRAY_END) this.#buffer[this.#at++] = FIXARRAY | length;
    else this.#length16or32(length, ARRAY16, ARRAY32);
  }

  /** A bin field copied inline. */
  bin(data: Uint8Array): void {
    this.#binHeader(data.byteLength);
    this.#buffer.set(data, this.#at);
    this.#at += data.byteLength;
  }

  /** A bin field whose header is written inline and whose data becomes a part of its own. */
  binByReference(data: Uint8Array): void {
    this.#binHeader(data.byteLength);
    this.#endRun();
    this.#parts.push(data);
    this.#byteLength += data.byteLength;
  }

  finish(): EncodedParts {
    this.#endRun();
    return { parts: this.#parts, byteLength: this.#byteLength };
  }

  /** bin has no fix form: bin8 from length 0 on. */
  #binHeader(length: number): void {
    if (length < UINT8_END) {
      this.#buffer[this.#at++] = BIN8;
      this.#buffer[this.#at++] = length;
    } else {
      this.#length16or32(length, BIN16, BIN32);
    }
  }

  /** A container header with a 16-bit length (below 2^16) or a 32-bit one. */
  #length16or32(length: number, type16: number, type32: number): void {
    if (length < UINT16_END) {
      this.#buffer[this.#at++] = type16;
      this.#view.setUint16(this.#at, length);
      this.#at += 2;
    } else {
      this.#buffer[this.#at++] = type32;
      this.#view.setUint32(this.#at, length);
      this.#at += 4;
    }
  }

  #endRun(): void {
    if (this.#at === this.#runStart) return;
    this.#parts.push(this.#buffer.subarray(this.#runStart, this.#at));
    this.#byteLength += this.#at - this.#runStart;
    this.#runStart = this.#at;
  }
}
