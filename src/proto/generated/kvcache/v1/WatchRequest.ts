// Original file: proto/kvcache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchRequest {
  /**
   * Only events of this namespace (progress events always come); empty = every namespace. An
   * unknown namespace is fine: it may appear later.
   */
  'namespace'?: (string);
  /**
   * First log index to send events of: the last index seen + 1 to resume, or ListPages'
   * watch_from_index after a listing. 0 = from now (the member's applied index + 1). Negative:
   * KVC_INVALID_ARGUMENT. Older than the member keeps: KVC_WATCH_COMPACTED with the trailer
   * `kvc-oldest-index`. Past the member's applied index + 1 after waiting 2 s:
   * KVC_WATCH_FUTURE_INDEX.
   */
  'fromIndex'?: (number | string | Long);
}

export interface WatchRequest__Output {
  /**
   * Only events of this namespace (progress events always come); empty = every namespace. An
   * unknown namespace is fine: it may appear later.
   */
  'namespace': (string);
  /**
   * First log index to send events of: the last index seen + 1 to resume, or ListPages'
   * watch_from_index after a listing. 0 = from now (the member's applied index + 1). Negative:
   * KVC_INVALID_ARGUMENT. Older than the member keeps: KVC_WATCH_COMPACTED with the trailer
   * `kvc-oldest-index`. Past the member's applied index + 1 after waiting 2 s:
   * KVC_WATCH_FUTURE_INDEX.
   */
  'fromIndex': (number);
}
