// Original file: proto/kvcache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

export interface PinPagesRequest {
  'namespace'?: (string);
  'keys'?: (Buffer | Uint8Array | string)[];
  /**
   * Pins expire after this many ms, counted from the leader's clock when it proposes the pin:
   * 1 ms to 1 hour (KVC_INVALID_ARGUMENT otherwise). A pinned page is never evicted or expired.
   */
  'ttlMs'?: (number | string | Long);
}

export interface PinPagesRequest__Output {
  'namespace': (string);
  'keys': (Buffer)[];
  /**
   * Pins expire after this many ms, counted from the leader's clock when it proposes the pin:
   * 1 ms to 1 hour (KVC_INVALID_ARGUMENT otherwise). A pinned page is never evicted or expired.
   */
  'ttlMs': (number);
}
