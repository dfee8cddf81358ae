// Original file: proto/kvcache/v1/cache.proto

import type { Dtype as _kvcache_v1_Dtype, Dtype__Output as _kvcache_v1_Dtype__Output } from '../../kvcache/v1/Dtype.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Metadata of one page. On a put the client fills every field but created_at_ms; on a get the
 * server returns what it stored.
 */
export interface PageMeta {
  /**
   * Tenant/model scope: 1-128 chars of [A-Za-z0-9._:/-] (KVC_INVALID_NAMESPACE otherwise).
   */
  'namespace'?: (string);
  /**
   * Chained block hash from the client, 8-64 bytes (KVC_INVALID_KEY otherwise).
   */
  'key'?: (Buffer | Uint8Array | string);
  /**
   * Key of the previous block of the prefix; empty for the first block.
   */
  'parentKey'?: (Buffer | Uint8Array | string);
  /**
   * Dtype of the payload bytes as they travel in this message (KVC_UNKNOWN_DTYPE if unspecified).
   */
  'dtype'?: (_kvcache_v1_Dtype);
  /**
   * Tensor shape, layer-major: shape[0] is the number of layers. product(shape) * size(dtype)
   * must equal `bytes` (KVC_SHAPE_MISMATCH).
   */
  'shape'?: (number)[];
  /**
   * Tokens covered by this page (e.g. 16).
   */
  'tokens'?: (number);
  /**
   * Payload bytes as they travel, at most 32 MiB (KVC_PAGE_TOO_LARGE).
   */
  'bytes'?: (number | string | Long);
  /**
   * crc32c (Castagnoli) of the payload as it travels (KVC_CHECKSUM_MISMATCH if it does not match).
   */
  'crc32c'?: (number);
  /**
   * Time to live in ms from created_at_ms; 0 = the namespace's or the cluster's default TTL (none
   * unless set). At most 365 days (KVC_INVALID_ARGUMENT). The leader deletes expired pages by
   * proposing it; a member's own clock never deletes anything.
   */
  'ttlMs'?: (number | string | Long);
  /**
   * Put only: store the payload as this dtype (FP16 from FP32 or BF16: round to nearest even);
   * unspecified = store as sent.
   */
  'storeDtype'?: (_kvcache_v1_Dtype);
  /**
   * Get only: when the leader applied the put (ms since the epoch).
   */
  'createdAtMs'?: (number | string | Long);
}

/**
 * Metadata of one page. On a put the client fills every field but created_at_ms; on a get the
 * server returns what it stored.
 */
export interface PageMeta__Output {
  /**
   * Tenant/model scope: 1-128 chars of [A-Za-z0-9._:/-] (KVC_INVALID_NAMESPACE otherwise).
   */
  'namespace': (string);
  /**
   * Chained block hash from the client, 8-64 bytes (KVC_INVALID_KEY otherwise).
   */
  'key': (Buffer);
  /**
   * Key of the previous block of the prefix; empty for the first block.
   */
  'parentKey': (Buffer);
  /**
   * Dtype of the payload bytes as they travel in this message (KVC_UNKNOWN_DTYPE if unspecified).
   */
  'dtype': (_kvcache_v1_Dtype__Output);
  /**
   * Tensor shape, layer-major: shape[0] is the number of layers. product(shape) * size(dtype)
   * must equal `bytes` (KVC_SHAPE_MISMATCH).
   */
  'shape': (number)[];
  /**
   * Tokens covered by this page (e.g. 16).
   */
  'tokens': (number);
  /**
   * Payload bytes as they travel, at most 32 MiB (KVC_PAGE_TOO_LARGE).
   */
  'bytes': (number);
  /**
   * crc32c (Castagnoli) of the payload as it travels (KVC_CHECKSUM_MISMATCH if it does not match).
   */
  'crc32c': (number);
  /**
   * Time to live in ms from created_at_ms; 0 = the namespace's or the cluster's default TTL (none
   * unless set). At most 365 days (KVC_INVALID_ARGUMENT). The leader deletes expired pages by
   * proposing it; a member's own clock never deletes anything.
   */
  'ttlMs': (number);
  /**
   * Put only: store the payload as this dtype (FP16 from FP32 or BF16: round to nearest even);
   * unspecified = store as sent.
   */
  'storeDtype': (_kvcache_v1_Dtype__Output);
  /**
   * Get only: when the leader applied the put (ms since the epoch).
   */
  'createdAtMs': (number);
}
