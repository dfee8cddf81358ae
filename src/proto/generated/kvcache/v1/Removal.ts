// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Removal {
  /**
   * Log index of the entry that removed the page.
   */
  'index'?: (number | string | Long);
  'namespace'?: (string);
  /**
   * Empty for a dropped namespace (every page of it).
   */
  'key'?: (Buffer | Uint8Array | string);
  /**
   * "evicted", "expired", "deleted" or "namespace-dropped".
   */
  'reason'?: (string);
}

export interface Removal__Output {
  /**
   * Log index of the entry that removed the page.
   */
  'index': (number);
  'namespace': (string);
  /**
   * Empty for a dropped namespace (every page of it).
   */
  'key': (Buffer);
  /**
   * "evicted", "expired", "deleted" or "namespace-dropped".
   */
  'reason': (string);
}
