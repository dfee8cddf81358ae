// Checksums a member already computed for bytes it keeps as they are (issue 11 item 4: a page's
// crc32c is verified once by each member on receipt, not recomputed layer by layer). The leader
// notes a page's payload once it checked it against the client's crc32c (src/rpc cache-service),
// a follower each large page of an entry it receives once it matched the page's meta (src/rpc
// peer-service). The WAL's record checksum then combines the noted crc into the record's
// (crc32cKnowing) instead of reading the payload again, and the apply's check of the page finds
// it (knownCrc32c). Before, a leader read every payload byte three times (receipt, WAL, apply)
// and a follower twice.
//
// Notes are keyed by the bytes' ArrayBuffer and offset, so every view of the same bytes finds
// them, and held weakly: a note goes with its buffer. Only bytes nobody writes again may be
// noted: received payloads, each in a buffer of its own (src/proto receive-room.ts, the page
// assembler, the work pool's results).
import { crc32c } from './crc32c.js';
import { crc32cCombine } from './crc32c-combine.js';

/**
 * Smaller ranges are not noted: their checksum costs about what a lookup and a combine do, and a
 * range this large never sits in Node's shared pool of small buffers.
 */
export const KNOWN_CRC32C_BYTES_MIN = 16 * 1024;

interface Note {
  bytes: number;
  crc: number;
}

const notes = new WeakMap<ArrayBufferLike, Map<number, Note>>();

/** Records that `bytes` (to stay as they are) have crc32c `crc`. Ranges below KNOWN_CRC32C_BYTES_MIN are ignored. */
export function noteCrc32c(bytes: Uint8Array, crc: number): void {
  if (bytes.byteLength < KNOWN_CRC32C_BYTES_MIN) return;
  let ofBuffer = notes.get(bytes.buffer);
  if (ofBuffer === undefined) notes.set(bytes.buffer, (ofBuffer = new Map()));
  ofBuffer.set(bytes.byteOffset, { bytes: bytes.byteLength, crc: crc >>> 0 });
}

/** The noted crc32c of exactly these bytes, if any. */
export function knownCrc32c(bytes: Uint8Array): number | undefined {
  const note = notes.get(bytes.buffer)?.get(bytes.byteOffset);
  return note?.bytes === bytes.byteLength ? note.crc : undefined;
}

/**
 * crc32c(data, seed), reading only the bytes of `data` outside the noted ranges that lie wholly
 * inside it: each noted range's crc is combined in.
 */
export function crc32cKnowing(data: Uint8Array, seed = 0): number {
  const ofBuffer = data.byteLength < KNOWN_CRC32C_BYTES_MIN ? undefined : notes.get(data.buffer);
  if (ofBuffer === undefined) return crc32c(data, seed);
  const start = data.byteOffset;
  const end = start + data.byteLength;
  const inside = [...ofBuffer].filter(([offset, note]) => offset >= start && offset + note.bytes <= end).sort((a, b) => a[0] - b[0]);
  let crc = seed >>> 0;
  let at = start;
  for (const [offset, note] of inside) {
    if (offset < at) continue; // overlaps one combined already: its bytes are read below instead
    crc = crc32c(data.subarray(at - start, offset - start), crc);
    crc = crc32cCombine(crc, note.crc, note.bytes);
    at = offset + note.bytes;
  }
  return crc32c(data.subarray(at - start), crc);
}
