// The public surface of src/codec: the msgpackr codecs of WAL records, peer messages and store
// commands, and (re-exported from src/bytes, where they live so that the client loads neither
// msgpackr nor the Raft core) checksums, dtype conversion and the page-set digest. Other folders
// import only this file.
//
// Buffer ownership: an encoder's result belongs to the caller and is never written again by the
// codec, but small results are views into a shared slab of a few KiB (msgpackr's), so use
// `byteOffset`/`byteLength`, never `.buffer` alone. A decoder's binary fields are views into
// the bytes it was given (no copies): keep those bytes unchanged while the fields are in use.
// Decoders throw only CodecError (code 'KVC_CODEC') on malformed input.
export { CodecError, CODEC_ERROR_CODE, isCodecError } from './codec-error.js';
export {
  encodeEntry,
  decodeEntry,
  encodeHardState,
  decodeHardState,
  encodeSnapshotMeta,
  decodeSnapshotMeta,
  encodeMessage,
  decodeMessage,
} from './raft-codec.js';
export { encodeEntryParts, encodeMessageParts, ENTRY_BY_REFERENCE_BYTES_MIN } from './encode-parts.js';
export type { EncodedParts } from './encode-parts.js';
export { encodeAccessReport, decodeAccessReport } from './access-report.js';
export type { AccessReport, AccessReportEntry } from './access-report.js';
export { encodeCommand, encodeCommandAfter, offerRoomBefore, putPayloadBuffer, decodeCommand, COMMAND_PREFIX_BYTES_MAX, PUT_DATA_BY_TAIL_BYTES_MIN, SETTING_KEYS, NS_SETTING_KEYS } from './command.js';
/** Plain msgpack arrays with the one configured Packr, for record bodies of other folders (the WAL's). */
export { packArray, unpackValue } from './msgpack.js';
export type { Command, CommandOp, PageMeta, SettingKey, NsSettingKey, SettingChange, NsSettingChange } from './command.js';
export { crc32c, crc32cCombine, crc32cKnowing, knownCrc32c, noteCrc32c, KNOWN_CRC32C_BYTES_MIN, fp32ToFp16, bf16ToFp16, fp16ToFp32, dtypeBytes, isDtype, pageSetDigest, hex } from '../bytes/index.js';
export type { Dtype, DigestPage } from '../bytes/index.js';
