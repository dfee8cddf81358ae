// Original file: proto/kvcache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

export interface ListedPage {
  'namespace'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'parentKey'?: (Buffer | Uint8Array | string);
  'bytes'?: (number | string | Long);
  'tokens'?: (number);
}

export interface ListedPage__Output {
  'namespace': (string);
  'key': (Buffer);
  'parentKey': (Buffer);
  'bytes': (number);
  'tokens': (number);
}
