// Original file: proto/kvcache/v1/admin.proto


export interface ProfileChunk {
  'data'?: (Buffer | Uint8Array | string);
}

export interface ProfileChunk__Output {
  'data': (Buffer);
}
