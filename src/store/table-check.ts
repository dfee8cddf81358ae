// Verifies the block checksums of LevelDB's table files (.ldb/.sst) before the store opens.
// classic-level 3 exposes neither paranoid_checks nor ReadOptions.verify_checksums, so LevelDB
// itself never checks a data block's crc32c on a read: a flipped byte in a table would be served
// (a payload is still caught by its page crc32c, but a metadata record or key would not be). So
// the open reads every table once, as the payload scrub reads every blob file, and checks each
// block against its trailer (LevelDB's table format, table/format.cc):
//   footer (last 48 bytes): metaindex handle, index handle (varint offset and size), padding,
//     magic 0xdb4775248b80fb57 (fixed64, little-endian);
//   every block is followed by a type byte and the masked crc32c of the block and that byte;
//   the index block's entries (prefix-compressed keys, restart array at its end) each hold the
//   handle of one data block.
// Only the tables the MANIFEST names are checked: a compaction cut short (a crash, or a close
// while it ran) leaves a half-written table that no version references; LevelDB deletes it at
// open and never reads it, so it is not damage (reading it as such rebuilt a whole store).

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { crc32c } from '../codec/index.js';

const FOOTER_BYTES = 48;
const TRAILER_BYTES = 5;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;
const MASK_DELTA = 0xa282ead8;
const NO_COMPRESSION = 0;

interface Handle {
  offset: number;
  size: number;
}

/** The first damage found in the tables under `dir`, or undefined when every block verifies. */
export async function checkTables(dir: string): Promise<string | undefined> {
  const live = await liveTables(dir);
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.ldb') || name.endsWith('.sst'))
    .filter((name) => live === undefined || live.has(Number.parseInt(name, 10)))
    .sort();
  for (const name of names) {
    const file = await readFile(path.join(dir, name)).catch((error: NodeJS.ErrnoException) => {
      // Gone since the listing: a table LevelDB deleted (an obsolete one) is none it will read.
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    const damage = file === undefined ? undefined : checkTable(file);
    if (damage !== undefined) return `table ${name}: ${damage}`;
  }
  return undefined;
}

/** The damage in one table file's bytes, or undefined. */
export function checkTable(file: Uint8Array): string | undefined {
  if (file.byteLength < FOOTER_BYTES) return 'shorter than its footer';
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(file.byteLength - 8, true) !== MAGIC_LO || view.getUint32(file.byteLength - 4, true) !== MAGIC_HI) return 'bad magic number';
  const footer = new Reader(file, file.byteLength - FOOTER_BYTES);
  const meta = footer.handle();
  const index = footer.handle();
  if (meta === undefined || index === undefined) return 'bad footer';
  const metaBlock = block(file, meta);
  if (typeof metaBlock === 'string') return `metaindex block: ${metaBlock}`;
  const indexBlock = block(file, index);
  if (typeof indexBlock === 'string') return `index block: ${indexBlock}`;
  if (indexBlock.type !== NO_COMPRESSION) return undefined; // the store never compresses; nothing more to walk
  const handles = blockHandles(indexBlock.data);
  if (handles === undefined) return 'index block does not decode';
  for (const handle of handles) {
    const data = block(file, handle);
    if (typeof data === 'string') return `data block at ${handle.offset}: ${data}`;
  }
  return undefined;
}

function block(file: Uint8Array, h: Handle): { data: Uint8Array; type: number } | string {
  if (h.offset + h.size + TRAILER_BYTES > file.byteLength) return 'beyond the end of the file';
  const stored = new DataView(file.buffer, file.byteOffset + h.offset + h.size + 1, 4).getUint32(0, true);
  if (maskedCrc32c(file.subarray(h.offset, h.offset + h.size + 1)) !== stored) return 'block checksum mismatch';
  return { data: file.subarray(h.offset, h.offset + h.size), type: file[h.offset + h.size]! };
}

/** LevelDB's stored form of a crc32c (util/crc32c.h Mask): rotated right by 15 bits, plus a constant. */
function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** The values (block handles) of an index block's entries; undefined when it does not decode. */
function blockHandles(data: Uint8Array): Handle[] | undefined {
  if (data.byteLength < 4) return undefined;
  const restarts = new DataView(data.buffer, data.byteOffset + data.byteLength - 4, 4).getUint32(0, true);
  const end = data.byteLength - 4 * (restarts + 1);
  if (end < 0) return undefined;
  const r = new Reader(data, 0);
  const out: Handle[] = [];
  while (r.at < end) {
    r.varint(); // shared key bytes
    const unshared = r.varint();
    const valueBytes = r.varint();
    if (unshared === undefined || valueBytes === undefined) return undefined;
    r.at += unshared;
    const value = new Reader(data.subarray(r.at, r.at + valueBytes), 0);
    const handle = value.handle();
    if (handle === undefined) return undefined;
    out.push(handle);
    r.at += valueBytes;
  }
  return r.at === end ? out : undefined;
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at: number,
  ) {}

  varint(): number | undefined {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.at >= this.bytes.byteLength) return undefined;
      const b = this.bytes[this.at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    return undefined;
  }

  /** A length-prefixed slice (a key, the comparator's name). */
  slice(): Uint8Array | undefined {
    const length = this.varint();
    if (length === undefined || this.at + length > this.bytes.byteLength) return undefined;
    this.at += length;
    return this.bytes.subarray(this.at - length, this.at);
  }

  handle(): Handle | undefined {
    const offset = this.varint();
    const size = this.varint();
    return offset === undefined || size === undefined ? undefined : { offset, size };
  }
}

// ---- which tables are live: the MANIFEST named by CURRENT (db/log_format.h, db/version_edit.cc) ----

const LOG_BLOCK_BYTES = 32 * 1024;
const LOG_HEADER_BYTES = 7;
const RECORD_FULL = 1;
const RECORD_FIRST = 2;
const RECORD_MIDDLE = 3;
const RECORD_LAST = 4;
const TAG_COMPARATOR = 1;
const TAG_LOG_NUMBER = 2;
const TAG_NEXT_FILE_NUMBER = 3;
const TAG_LAST_SEQUENCE = 4;
const TAG_COMPACT_POINTER = 5;
const TAG_DELETED_FILE = 6;
const TAG_NEW_FILE = 7;
const TAG_PREV_LOG_NUMBER = 9;

/**
 * The numbers of the tables the current version references, or undefined when that cannot be
 * known (no CURRENT, a MANIFEST that does not read or decode): then every table is checked, and
 * LevelDB's own open reports a damaged MANIFEST.
 */
export async function liveTables(dir: string): Promise<Set<number> | undefined> {
  const current = await readFile(path.join(dir, 'CURRENT'), 'utf8').catch(() => undefined);
  const name = current?.endsWith('\n') === true ? current.slice(0, -1) : undefined;
  if (name === undefined || !/^MANIFEST-\d+$/.test(name)) return undefined;
  const manifest = await readFile(path.join(dir, name)).catch(() => undefined);
  if (manifest === undefined) return undefined;
  const records = logRecords(manifest);
  if (records === undefined) return undefined;
  const live = new Set<number>();
  for (const record of records) if (!applyEdit(record, live)) return undefined;
  return live;
}

/** The records of a LevelDB log file; a record cut short at the end is none (LevelDB's reader does the same). */
function logRecords(file: Uint8Array): Uint8Array[] | undefined {
  const records: Uint8Array[] = [];
  let parts: Uint8Array[] | undefined;
  let at = 0;
  while (at < file.byteLength) {
    const left = LOG_BLOCK_BYTES - (at % LOG_BLOCK_BYTES);
    if (left < LOG_HEADER_BYTES) {
      at += left; // a block's zero-filled trailer
      continue;
    }
    if (at + LOG_HEADER_BYTES > file.byteLength) break;
    const view = new DataView(file.buffer, file.byteOffset + at, LOG_HEADER_BYTES);
    const length = view.getUint16(4, true);
    const type = view.getUint8(6);
    if (at + LOG_HEADER_BYTES + length > file.byteLength) break;
    if (type === 0 && length === 0) {
      at += left; // preallocated space
      continue;
    }
    const typed = file.subarray(at + 6, at + LOG_HEADER_BYTES + length);
    if (maskedCrc32c(typed) !== view.getUint32(0, true)) return undefined;
    const data = typed.subarray(1);
    at += LOG_HEADER_BYTES + length;
    if (type === RECORD_FULL && parts === undefined) records.push(data);
    else if (type === RECORD_FIRST && parts === undefined) parts = [data];
    else if (type === RECORD_MIDDLE && parts !== undefined) parts.push(data);
    else if (type === RECORD_LAST && parts !== undefined) {
      records.push(Buffer.concat([...parts, data]));
      parts = undefined;
    } else return undefined;
  }
  return records;
}

/** Applies one VersionEdit's new and deleted files to `live`; false when it does not decode. */
function applyEdit(edit: Uint8Array, live: Set<number>): boolean {
  const r = new Reader(edit, 0);
  while (r.at < edit.byteLength) {
    const tag = r.varint();
    switch (tag) {
      case TAG_LOG_NUMBER:
      case TAG_NEXT_FILE_NUMBER:
      case TAG_LAST_SEQUENCE:
      case TAG_PREV_LOG_NUMBER:
        if (r.varint() === undefined) return false;
        break;
      case TAG_COMPARATOR:
        if (r.slice() === undefined) return false;
        break;
      case TAG_COMPACT_POINTER:
        if (r.varint() === undefined || r.slice() === undefined) return false;
        break;
      case TAG_DELETED_FILE: {
        const number = r.varint() === undefined ? undefined : r.varint();
        if (number === undefined) return false;
        live.delete(number);
        break;
      }
      case TAG_NEW_FILE: {
        const number = r.varint() === undefined ? undefined : r.varint();
        if (number === undefined || r.varint() === undefined || r.slice() === undefined || r.slice() === undefined) return false;
        live.add(number);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}
