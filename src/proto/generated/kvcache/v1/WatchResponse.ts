// Original file: proto/kvcache/v1/cache.proto

import type { WatchEvent as _kvcache_v1_WatchEvent, WatchEvent__Output as _kvcache_v1_WatchEvent__Output } from '../../kvcache/v1/WatchEvent.js';

/**
 * Events in log order; all events of one log index are in one message, so a watcher that saw a
 * message resumes exactly at its last index + 1.
 */
export interface WatchResponse {
  'events'?: (_kvcache_v1_WatchEvent)[];
}

/**
 * Events in log order; all events of one log index are in one message, so a watcher that saw a
 * message resumes exactly at its last index + 1.
 */
export interface WatchResponse__Output {
  'events': (_kvcache_v1_WatchEvent__Output)[];
}
