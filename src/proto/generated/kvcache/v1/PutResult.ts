// Original file: proto/kvcache/v1/cache.proto


export interface PutResult {
  'key'?: (Buffer | Uint8Array | string);
  /**
   * Empty when stored (or already present with the same crc32c); otherwise a KVC_* code such
   * as KVC_EXISTS_DIFFERENT.
   */
  'code'?: (string);
  'message'?: (string);
}

export interface PutResult__Output {
  'key': (Buffer);
  /**
   * Empty when stored (or already present with the same crc32c); otherwise a KVC_* code such
   * as KVC_EXISTS_DIFFERENT.
   */
  'code': (string);
  'message': (string);
}
