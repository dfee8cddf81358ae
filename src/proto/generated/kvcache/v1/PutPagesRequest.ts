// Original file: proto/kvcache/v1/cache.proto

import type { PageMeta as _kvcache_v1_PageMeta, PageMeta__Output as _kvcache_v1_PageMeta__Output } from '../../kvcache/v1/PageMeta.js';

/**
 * A client stream of pages: for each page, a first message with `meta` (and possibly data),
 * then messages with more `data`, the last one with `last = true`. Each message is at most
 * 4 MiB. A stream that ends inside a page fails that page with KVC_INCOMPLETE_PAGE.
 */
export interface PutPagesRequest {
  'meta'?: (_kvcache_v1_PageMeta | null);
  'data'?: (Buffer | Uint8Array | string);
  'last'?: (boolean);
}

/**
 * A client stream of pages: for each page, a first message with `meta` (and possibly data),
 * then messages with more `data`, the last one with `last = true`. Each message is at most
 * 4 MiB. A stream that ends inside a page fails that page with KVC_INCOMPLETE_PAGE.
 */
export interface PutPagesRequest__Output {
  'meta': (_kvcache_v1_PageMeta__Output | null);
  'data': (Buffer);
  'last': (boolean);
}
