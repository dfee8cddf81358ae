// Original file: proto/kvcache/v1/cache.proto


export interface UnpinPagesRequest {
  'namespace'?: (string);
  'keys'?: (Buffer | Uint8Array | string)[];
}

export interface UnpinPagesRequest__Output {
  'namespace': (string);
  'keys': (Buffer)[];
}
