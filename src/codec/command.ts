// Store commands: what the leader proposes and every replica's PageStore applies, carried as the
// data of EntryType.Normal Raft entries. This file owns the types (src/store imports them from
// the codec's index) and their encoding. Layouts, each a msgpack array led by FormatTag.Command
// and the operation code (field order is the wire format: append, never reorder):
//   put      [5, 1, pages[]]  page = [ns, key, parentKey | nil, dtype, shape[], tokens, bytes,
//                                     crc32c, createdAtMs, ttlMs | nil, data]
//   delete   [5, 2, ns, keys[]]
//   drop-ns  [5, 3, ns]
//   pin      [5, 4, ns, keys[], ttlMs, nowMs]
//   unpin    [5, 5, ns, keys[]]
//   evict    [5, 6, ns, keys[]]
//   noop     [5, 7]
//   set-config     [5, 8, [[key, value], ...]]        replicated capacity settings (SETTING_KEYS)
//   set-ns-config  [5, 9, ns, [[key, value], ...]]    replicated namespace settings (NS_SETTING_KEYS)
//   expire         [5, 10, ns, keys[]]                pages whose TTL ran out, as the leader saw it
// The codec checks types and intrinsic ranges only (non-negative integers, uint32 checksum, known
// dtype). Configurable limits (key length, namespace syntax, page size, keys per request) are the
// caller's to enforce, because an operator may change them and the log must stay decodable.
// Decoded keys and page data are views into the input bytes (no copies).

import assert from 'node:assert/strict';
import {
  readArray,
  readBytes,
  readEnum,
  readOptional,
  readString,
  readTuple,
  readUint,
  readUint32,
} from './fields.js';
import { CodecError } from './codec-error.js';
import { isDtype, type Dtype } from '../bytes/index.js';
import { BIN32, BIN8, CONTAINER_HEADER_BYTES_MAX, FormatTag, NUMBER_BYTES_MAX, STRING_BYTES_PER_UNIT_MAX, describe, packTuple, unpackTuple } from './msgpack.js';

export type { Dtype } from '../bytes/index.js';

export interface PageMeta {
  ns: string;
  key: Uint8Array;
  parentKey?: Uint8Array;
  dtype: Dtype;
  shape: number[];
  tokens: number;
  bytes: number;
  crc32c: number;
  createdAtMs: number;
  ttlMs?: number;
}

export type Command =
  | { op: 'put'; pages: { meta: PageMeta; data: Uint8Array }[] }
  | { op: 'delete'; ns: string; keys: Uint8Array[] }
  | { op: 'drop-ns'; ns: string }
  | { op: 'pin'; ns: string; keys: Uint8Array[]; ttlMs: number; nowMs: number }
  | { op: 'unpin'; ns: string; keys: Uint8Array[] }
  | { op: 'evict'; ns: string; keys: Uint8Array[] }
  | { op: 'noop' }
  | { op: 'set-config'; changes: SettingChange[] }
  | { op: 'set-ns-config'; ns: string; changes: NsSettingChange[] }
  | { op: 'expire'; ns: string; keys: Uint8Array[] };

/** The replicated capacity settings a `set-config` command may change. */
export const SETTING_KEYS = ['budgetBytes', 'highWatermark', 'lowWatermark', 'evictionGraceMs', 'defaultTtlMs'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];
/** The replicated settings of one namespace. */
export const NS_SETTING_KEYS = ['quotaBytes', 'defaultTtlMs'] as const;
export type NsSettingKey = (typeof NS_SETTING_KEYS)[number];
/** Values are non-negative numbers (watermarks are fractions); the store checks their ranges. */
export type SettingChange = [SettingKey, number];
export type NsSettingChange = [NsSettingKey, number];

export type CommandOp = Command['op'];

/** Operation codes on the wire. Codes are never reused for another operation. */
const OP_CODES = { put: 1, delete: 2, 'drop-ns': 3, pin: 4, unpin: 5, evict: 6, noop: 7, 'set-config': 8, 'set-ns-config': 9, expire: 10 } as const satisfies Record<
  CommandOp,
  number
>;
const OP_CODE_MIN = 1;
const OPS_BY_CODE: readonly CommandOp[] = invert(OP_CODES);
const OP_CODE_MAX = OPS_BY_CODE.length - 1;
const PAGE_FIELDS = 11;
/** Tuple lengths of the keyed commands (tag, op, ns, keys) and of pin (plus ttlMs, nowMs). */
const KEYED_RECORD_LENGTH = 4;
const PIN_RECORD_LENGTH = 6;
const DROP_NS_RECORD_LENGTH = 3;
const NOOP_RECORD_LENGTH = 2;
const PUT_RECORD_LENGTH = 3;
const SET_CONFIG_RECORD_LENGTH = 3;
const SET_NS_CONFIG_RECORD_LENGTH = 4;

function invert(codes: Record<CommandOp, number>): CommandOp[] {
  const ops: CommandOp[] = [];
  for (const [op, code] of Object.entries(codes)) ops[code] = op as CommandOp;
  return ops;
}

function readDtype(value: unknown, path: string): Dtype {
  if (!isDtype(value)) throw new CodecError(`${path}: expected a dtype, got ${describe(value)}`);
  return value;
}

function readKeys(value: unknown, path: string): Uint8Array[] {
  return readArray(value, path).map((key, i) => readBytes(key, `${path}[${i}]`));
}

function readChanges<K extends string>(value: unknown, keys: readonly K[], path: string): [K, number][] {
  return readArray(value, path).map((change, i) => {
    const [key, number] = readTuple(change, 2, `${path}[${i}]`);
    if (typeof key !== 'string' || !(keys as readonly string[]).includes(key)) {
      throw new CodecError(`${path}[${i}]: unknown setting ${describe(key)}`);
    }
    if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
      throw new CodecError(`${path}[${i}]: expected a finite non-negative number, got ${describe(number)}`);
    }
    return [key as K, number];
  });
}

function readShape(value: unknown, path: string): number[] {
  return readArray(value, path).map((dim, i) => readUint(dim, `${path}[${i}]`));
}

// ---- encode ----

function pageFields(page: { meta: PageMeta; data: Uint8Array }, path: string): unknown[] {
  const m = page.meta;
  return [
    readString(m.ns, `${path}.ns`),
    readBytes(m.key, `${path}.key`),
    m.parentKey === undefined ? null : readBytes(m.parentKey, `${path}.parentKey`),
    readDtype(m.dtype, `${path}.dtype`),
    readShape(m.shape, `${path}.shape`),
    readUint(m.tokens, `${path}.tokens`),
    readUint(m.bytes, `${path}.bytes`),
    readUint32(m.crc32c, `${path}.crc32c`),
    readUint(m.createdAtMs, `${path}.createdAtMs`),
    m.ttlMs === undefined ? null : readUint(m.ttlMs, `${path}.ttlMs`),
    readBytes(page.data, `${path}.data`),
  ];
}

export function encodeCommand(c: Command): Uint8Array {
  const head = [FormatTag.Command, OP_CODES[c.op]];
  switch (c.op) {
    case 'put': {
      const pages = readArray(c.pages, 'command.pages') as { meta: PageMeta; data: Uint8Array }[];
      const tuples = pages.map((page, i) => pageFields(page, `command.pages[${i}]`));
      let binaryBytes = 0;
      for (const page of pages) binaryBytes += page.data.byteLength;
      return packTuple([...head, tuples], binaryBytes);
    }
    case 'delete':
    case 'unpin':
    case 'evict':
    case 'expire':
      return packTuple([...head, readString(c.ns, 'command.ns'), readKeys(c.keys, 'command.keys')], 0);
    case 'set-config':
      return packTuple([...head, readChanges(c.changes, SETTING_KEYS, 'command.changes')], 0);
    case 'set-ns-config':
      return packTuple([...head, readString(c.ns, 'command.ns'), readChanges(c.changes, NS_SETTING_KEYS, 'command.changes')], 0);
    case 'pin': {
      const fields = [readString(c.ns, 'command.ns'), readKeys(c.keys, 'command.keys')];
      return packTuple([...head, ...fields, readUint(c.ttlMs, 'command.ttlMs'), readUint(c.nowMs, 'command.nowMs')], 0);
    }
    case 'drop-ns':
      return packTuple([...head, readString(c.ns, 'command.ns')], 0);
    case 'noop':
      return packTuple(head, 0);
    default:
      return assertNever(c, 'command.op');
  }
}

/**
 * A put's data at least this large is written once, by encodeCommandAfter, behind the record's
 * head; smaller data goes through msgpackr with the rest (the same as msgpack.ts's presizing).
 */
export const PUT_DATA_BY_TAIL_BYTES_MIN = 64 * 1024;
/** Lengths from here on take bin32 (type byte + 4 length bytes): every put data written by tail. */
const BIN32_FROM = 0x10000;
const BIN32_HEADER_BYTES = 5;
/** An empty bin: what a placeholder for the data encodes to (bin8, length 0). */
const EMPTY_BIN_BYTES = 2;
const EMPTY = new Uint8Array(0);

/** The most bytes a caller of encodeCommandAfter puts in front of a command (a proposal's header: 9). */
export const COMMAND_PREFIX_BYTES_MAX = 16;
/** The longest dtype name (Dtype), bounded generously. */
const DTYPE_CHARS_MAX = 8;
/** Numbers of a page tuple (tokens, bytes, crc32c, createdAtMs, ttlMs) and the record's (tag, op). */
const PAGE_NUMBERS = 5;
const RECORD_NUMBERS = 2;

/** What the head of a one-page put record holds besides numbers: known when the page's first message arrives. */
export interface PutHeadFields {
  ns: string;
  key: Uint8Array;
  parentKey?: Uint8Array;
  shape: number[];
}

/** Payload buffers from putPayloadBuffer, each with the bytes of room before it that encodeCommandAfter may fill once. */
const roomBefore = new WeakMap<Uint8Array, number>();

/**
 * A buffer of `bytes` bytes, not initialized, for a one-page put's payload, with room in front of
 * it for everything encodeCommandAfter writes ahead of the data (a prefix of up to
 * COMMAND_PREFIX_BYTES_MAX, the record's head for a page with these fields, the bin header). The
 * first encodeCommandAfter of a put whose data is this very view writes the head into that room
 * and returns a view over head and data: the payload is not copied at all (the PutPages path: a
 * page that came in several messages is assembled here, once). The caller must not touch the
 * bytes before the view, and must not change the data once the command is encoded.
 */
export function putPayloadBuffer(fields: PutHeadFields, bytes: number): Uint8Array {
  let room = COMMAND_PREFIX_BYTES_MAX + 3 * CONTAINER_HEADER_BYTES_MAX + RECORD_NUMBERS * NUMBER_BYTES_MAX;
  room += CONTAINER_HEADER_BYTES_MAX + STRING_BYTES_PER_UNIT_MAX * fields.ns.length;
  room += CONTAINER_HEADER_BYTES_MAX + fields.key.byteLength;
  room += CONTAINER_HEADER_BYTES_MAX + (fields.parentKey?.byteLength ?? 0);
  room += CONTAINER_HEADER_BYTES_MAX + STRING_BYTES_PER_UNIT_MAX * DTYPE_CHARS_MAX;
  room += CONTAINER_HEADER_BYTES_MAX + NUMBER_BYTES_MAX * fields.shape.length;
  room += PAGE_NUMBERS * NUMBER_BYTES_MAX + CONTAINER_HEADER_BYTES_MAX;
  const slow = Buffer.allocUnsafeSlow(room + bytes);
  const data = new Uint8Array(slow.buffer, slow.byteOffset + room, bytes);
  roomBefore.set(data, room);
  return data;
}

/**
 * Tells encodeCommandAfter that the `bytes` bytes before `data` in its buffer are the caller's to
 * give: nothing reads them any more (the PutPages path: a page that came in one message, received
 * with room in front, src/proto receive-room.ts). As with putPayloadBuffer, the first
 * encodeCommandAfter of a put whose data is this very view writes its head there when it fits.
 */
export function offerRoomBefore(data: Uint8Array, bytes: number): void {
  assert.ok(Number.isSafeInteger(bytes) && bytes >= 0 && bytes <= data.byteOffset, 'the room offered lies before the data in its buffer');
  roomBefore.set(data, bytes);
}

/**
 * encodeCommand's bytes behind `prefixBytes` bytes the caller fills (a proposal's header), in a
 * buffer of their own, whose prefix is NOT initialized. The leader's proposal path: encoding the
 * command and then copying it behind its header copied a put's payload twice; here a one-page
 * put whose data is at least PUT_DATA_BY_TAIL_BYTES_MIN has its head (everything but the data,
 * which is the record's last field) packed by msgpackr with an empty placeholder, and the data
 * copied once behind the head and the bin header msgpackr would have written (or not at all when
 * the data came from putPayloadBuffer): byte for byte encodeCommand's result. Any other command
 * is encoded by encodeCommand and copied behind the prefix (small, or several pages: not on the
 * put path). Throws what encodeCommand throws.
 */
export function encodeCommandAfter(prefixBytes: number, c: Command): Uint8Array {
  const page = c.op === 'put' && Array.isArray(c.pages) && c.pages.length === 1 ? c.pages[0] : undefined;
  if (page === undefined || !(page.data instanceof Uint8Array) || page.data.byteLength < PUT_DATA_BY_TAIL_BYTES_MIN) {
    const body = encodeCommand(c);
    const out = new Uint8Array(prefixBytes + body.byteLength);
    out.set(body, prefixBytes);
    return out;
  }
  const fields = pageFields(page, 'command.pages[0]');
  fields[fields.length - 1] = EMPTY;
  const packed = packTuple([FormatTag.Command, OP_CODES.put, [fields]], 0);
  const headBytes = packed.byteLength - EMPTY_BIN_BYTES;
  // The placeholder must be the record's last bytes, or the layout above is not what msgpackr wrote.
  assert.ok(packed[headBytes] === BIN8 && packed[headBytes + 1] === 0, 'the put record ends with its data');
  const data = page.data;
  const length = data.byteLength;
  assert.ok(length >= BIN32_FROM, 'data written by tail takes a bin32 header');
  const aheadBytes = prefixBytes + headBytes + BIN32_HEADER_BYTES;
  const total = aheadBytes + length;
  const room = roomBefore.get(data);
  // Once only: a second encoding (another prefix) must not overwrite the first one's head.
  roomBefore.delete(data);
  const inPlace = room !== undefined && room >= aheadBytes;
  // Every byte after the prefix is written below: no need to zero a MiB-sized buffer first.
  const slow = inPlace ? undefined : Buffer.allocUnsafeSlow(total);
  const out = slow === undefined ? new Uint8Array(data.buffer, data.byteOffset - aheadBytes, total) : new Uint8Array(slow.buffer, slow.byteOffset, total);
  out.set(packed.subarray(0, headBytes), prefixBytes);
  const at = prefixBytes + headBytes;
  out[at] = BIN32;
  new DataView(out.buffer, out.byteOffset, total).setUint32(at + 1, length);
  if (!inPlace) out.set(data, at + BIN32_HEADER_BYTES);
  return out;
}

function assertNever(value: { op?: unknown }, path: string): never {
  throw new CodecError(`${path}: unknown operation ${describe(value.op)}`);
}

// ---- decode ----

function readPage(value: unknown, path: string): { meta: PageMeta; data: Uint8Array } {
  const f = readTuple(value, PAGE_FIELDS, path);
  const meta: PageMeta = {
    ns: readString(f[0], `${path}.ns`),
    key: readBytes(f[1], `${path}.key`),
    dtype: readDtype(f[3], `${path}.dtype`),
    shape: readShape(f[4], `${path}.shape`),
    tokens: readUint(f[5], `${path}.tokens`),
    bytes: readUint(f[6], `${path}.bytes`),
    crc32c: readUint32(f[7], `${path}.crc32c`),
    createdAtMs: readUint(f[8], `${path}.createdAtMs`),
  };
  const parentKey = readOptional(f[2], readBytes, `${path}.parentKey`);
  if (parentKey !== undefined) meta.parentKey = parentKey;
  const ttlMs = readOptional(f[9], readUint, `${path}.ttlMs`);
  if (ttlMs !== undefined) meta.ttlMs = ttlMs;
  return { meta, data: readBytes(f[10], `${path}.data`) };
}

export function decodeCommand(bytes: Uint8Array): Command {
  const t = unpackTuple(bytes, FormatTag.Command, 'command');
  const op = OPS_BY_CODE[readEnum(t[1], OP_CODE_MIN, OP_CODE_MAX, 'command.op')];
  switch (op) {
    case 'put': {
      const pages = readArray(readTuple(t, PUT_RECORD_LENGTH, 'command')[2], 'command.pages');
      return { op, pages: pages.map((page, i) => readPage(page, `command.pages[${i}]`)) };
    }
    case 'delete':
    case 'unpin':
    case 'evict':
    case 'expire':
      readTuple(t, KEYED_RECORD_LENGTH, 'command');
      return { op, ns: readString(t[2], 'command.ns'), keys: readKeys(t[3], 'command.keys') };
    case 'set-config':
      readTuple(t, SET_CONFIG_RECORD_LENGTH, 'command');
      return { op, changes: readChanges(t[2], SETTING_KEYS, 'command.changes') };
    case 'set-ns-config':
      readTuple(t, SET_NS_CONFIG_RECORD_LENGTH, 'command');
      return { op, ns: readString(t[2], 'command.ns'), changes: readChanges(t[3], NS_SETTING_KEYS, 'command.changes') };
    case 'pin':
      readTuple(t, PIN_RECORD_LENGTH, 'command');
      return {
        op,
        ns: readString(t[2], 'command.ns'),
        keys: readKeys(t[3], 'command.keys'),
        ttlMs: readUint(t[4], 'command.ttlMs'),
        nowMs: readUint(t[5], 'command.nowMs'),
      };
    case 'drop-ns':
      readTuple(t, DROP_NS_RECORD_LENGTH, 'command');
      return { op, ns: readString(t[2], 'command.ns') };
    case 'noop':
      readTuple(t, NOOP_RECORD_LENGTH, 'command');
      return { op };
    default:
      return assertNever({ op }, 'command.op');
  }
}
