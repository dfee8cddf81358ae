// Bytes as lowercase hex, for keys in logs, error details and maps: a view over the same memory
// (no copy of the bytes), whatever the array's offset into its buffer.

/** `bytes` as lowercase hex. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
