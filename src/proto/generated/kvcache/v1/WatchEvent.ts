// Original file: proto/kvcache/v1/cache.proto

import type { WatchEventType as _kvcache_v1_WatchEventType, WatchEventType__Output as _kvcache_v1_WatchEventType__Output } from '../../kvcache/v1/WatchEventType.js';
import type { RemovalReason as _kvcache_v1_RemovalReason, RemovalReason__Output as _kvcache_v1_RemovalReason__Output } from '../../kvcache/v1/RemovalReason.js';
import type { Long } from '@grpc/proto-loader';

export interface WatchEvent {
  'type'?: (_kvcache_v1_WatchEventType);
  /**
   * The log index of the entry that made the change (for progress: the applied index). One
   * entry may make many events; they always arrive in the same WatchResponse.
   */
  'index'?: (number | string | Long);
  'namespace'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  /**
   * Stored only: as in PageMeta.
   */
  'parentKey'?: (Buffer | Uint8Array | string);
  'bytes'?: (number | string | Long);
  'tokens'?: (number);
  /**
   * Removed only.
   */
  'reason'?: (_kvcache_v1_RemovalReason);
  /**
   * Stored only: the crc32c of the stored payload (PageMeta.crc32c as GetPages returns it).
   */
  'crc32c'?: (number);
}

export interface WatchEvent__Output {
  'type': (_kvcache_v1_WatchEventType__Output);
  /**
   * The log index of the entry that made the change (for progress: the applied index). One
   * entry may make many events; they always arrive in the same WatchResponse.
   */
  'index': (number);
  'namespace': (string);
  'key': (Buffer);
  /**
   * Stored only: as in PageMeta.
   */
  'parentKey': (Buffer);
  'bytes': (number);
  'tokens': (number);
  /**
   * Removed only.
   */
  'reason': (_kvcache_v1_RemovalReason__Output);
  /**
   * Stored only: the crc32c of the stored payload (PageMeta.crc32c as GetPages returns it).
   */
  'crc32c': (number);
}
