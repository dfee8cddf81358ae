// A blob reference: where one page payload lives in the store's blob files. It is the value of a
// 'b' record (keys.ts) and a member-local physical location — GC moves payloads, and another
// member keeps the same page elsewhere — so it never travels in a snapshot or enters a digest.
//
// Fixed binary, big-endian: u32 file id, u64 offset, u32 length, u32 crc32c (20 bytes). The crc
// is a copy of the page metadata's, so a blob read can be verified without the metadata (the
// snapshot stream reads 'b' records before it could see the 'm' record of the same page).

import assert from 'node:assert/strict';

export interface BlobRef {
  fileId: number;
  offset: number;
  length: number;
  crc32c: number;
}

export const BLOB_REF_BYTES = 20;

export function encodeBlobRef(ref: BlobRef): Uint8Array {
  const out = new Uint8Array(BLOB_REF_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, ref.fileId);
  view.setBigUint64(4, BigInt(ref.offset));
  view.setUint32(12, ref.length);
  view.setUint32(16, ref.crc32c >>> 0);
  return out;
}

export function decodeBlobRef(value: Uint8Array): BlobRef {
  assert.equal(value.byteLength, BLOB_REF_BYTES, `a blob reference is ${BLOB_REF_BYTES} bytes, got ${value.byteLength}`);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return { fileId: view.getUint32(0), offset: Number(view.getBigUint64(4)), length: view.getUint32(12), crc32c: view.getUint32(16) };
}

export function sameBlobRef(a: BlobRef, b: BlobRef): boolean {
  return a.fileId === b.fileId && a.offset === b.offset && a.length === b.length && a.crc32c === b.crc32c;
}
