// Original file: proto/kvcache/v1/cache.proto

import type { PageMeta as _kvcache_v1_PageMeta, PageMeta__Output as _kvcache_v1_PageMeta__Output } from '../../kvcache/v1/PageMeta.js';
import type { SharedPage as _kvcache_v1_SharedPage, SharedPage__Output as _kvcache_v1_SharedPage__Output } from '../../kvcache/v1/SharedPage.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One chunk of one page. Chunks of a page arrive in order; `meta` is set on the first chunk of
 * each page only; each `data` is at most 1 MiB.
 */
export interface GetPagesResponse {
  'meta'?: (_kvcache_v1_PageMeta | null);
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Byte offset of `data` within the returned (possibly layer-sliced, converted) payload.
   */
  'offset'?: (number | string | Long);
  /**
   * True on the last chunk of this page.
   */
  'last'?: (boolean);
  /**
   * TRANSFER_SHARED_MEMORY: set (with meta, empty data, last = true) when the page is answered by
   * its place in the shared arena instead of bytes.
   */
  'shared'?: (_kvcache_v1_SharedPage | null);
}

/**
 * One chunk of one page. Chunks of a page arrive in order; `meta` is set on the first chunk of
 * each page only; each `data` is at most 1 MiB.
 */
export interface GetPagesResponse__Output {
  'meta': (_kvcache_v1_PageMeta__Output | null);
  'data': (Buffer);
  /**
   * Byte offset of `data` within the returned (possibly layer-sliced, converted) payload.
   */
  'offset': (number);
  /**
   * True on the last chunk of this page.
   */
  'last': (boolean);
  /**
   * TRANSFER_SHARED_MEMORY: set (with meta, empty data, last = true) when the page is answered by
   * its place in the shared arena instead of bytes.
   */
  'shared': (_kvcache_v1_SharedPage__Output | null);
}
