// Original file: proto/kvcache/v1/cache.proto


export interface KeyList {
  'keys'?: (Buffer | Uint8Array | string)[];
}

export interface KeyList__Output {
  'keys': (Buffer)[];
}
