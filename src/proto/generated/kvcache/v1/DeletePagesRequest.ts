// Original file: proto/kvcache/v1/cache.proto


export interface DeletePagesRequest {
  'namespace'?: (string);
  'keys'?: (Buffer | Uint8Array | string)[];
}

export interface DeletePagesRequest__Output {
  'namespace': (string);
  'keys': (Buffer)[];
}
