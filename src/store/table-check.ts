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
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.ldb') || name.endsWith('.sst')).sort();
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
  const crc = crc32c(file.subarray(h.offset, h.offset + h.size + 1));
  const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
  if (masked !== stored) return 'block checksum mismatch';
  return { data: file.subarray(h.offset, h.offset + h.size), type: file[h.offset + h.size]! };
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

  handle(): Handle | undefined {
    const offset = this.varint();
    const size = this.varint();
    return offset === undefined || size === undefined ? undefined : { offset, size };
  }
}
