// Original file: proto/kvcache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Where a page's bytes are in the member's shared arena.
 */
export interface SharedPage {
  /**
   * Index into Status.memory_tier.shared_memory.files.
   */
  'region'?: (number);
  /**
   * Byte offset in that file (data_offset included) and length: the page (or its layer range)
   * as `meta` describes it; crc32c is meta.crc32c.
   */
  'offset'?: (number | string | Long);
  'length'?: (number | string | Long);
  /**
   * Release with ReleasePages once copied; the bytes stay unchanged until then or until it
   * expires (`expires_in_ms` from when the member sent it).
   */
  'leaseId'?: (number | string | Long);
  'expiresInMs'?: (number | string | Long);
}

/**
 * Where a page's bytes are in the member's shared arena.
 */
export interface SharedPage__Output {
  /**
   * Index into Status.memory_tier.shared_memory.files.
   */
  'region': (number);
  /**
   * Byte offset in that file (data_offset included) and length: the page (or its layer range)
   * as `meta` describes it; crc32c is meta.crc32c.
   */
  'offset': (number);
  'length': (number);
  /**
   * Release with ReleasePages once copied; the bytes stay unchanged until then or until it
   * expires (`expires_in_ms` from when the member sent it).
   */
  'leaseId': (number);
  'expiresInMs': (number);
}
