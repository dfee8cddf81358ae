// The public surface of the blob files: payload storage outside LevelDB, indexed by 'b' records.

export { BlobFiles, blobDir, decodeBlobMark, durableUnder, encodeBlobMark } from './blob-files.js';
export type { BlobFilesOptions, BlobMark, BlobPayload, BlobStats, WalSpan } from './blob-files.js';
export { BLOB_REF_BYTES, decodeBlobRef, encodeBlobRef, sameBlobRef } from './blob-ref.js';
export type { BlobRef } from './blob-ref.js';
