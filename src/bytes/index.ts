// The public surface of src/bytes: the byte-level helpers that a client needs as much as a member
// does — crc32c, the page dtypes and their fp16 conversions, and the page-set digest. They sit
// apart from src/codec so that loading them costs no msgpackr and no Raft core: the client and
// `kvc` import this folder, which imports only src/native (the addon's light loader). src/codec
// re-exports them, so the member's folders keep importing the codec alone.
export { copyCrc32c, crc32c } from './crc32c.js';
export { crc32cCombine } from './crc32c-combine.js';
export { KNOWN_CRC32C_BYTES_MIN, crc32cKnowing, knownCrc32c, noteCrc32c } from './known-crc32c.js';
export { fp32ToFp16, bf16ToFp16, fp16ToFp32, dtypeBytes, isDtype } from './fp16.js';
export type { Dtype } from './fp16.js';
export { pageSetDigest } from './page-set-digest.js';
export { hex } from './hex.js';
export type { DigestPage } from './page-set-digest.js';
