// Original file: proto/kvcache/v1/cache.proto

export const WatchEventType = {
  WATCH_EVENT_TYPE_UNSPECIFIED: 'WATCH_EVENT_TYPE_UNSPECIFIED',
  /**
   * A page was stored (a put of a page already stored is no event).
   */
  WATCH_EVENT_STORED: 'WATCH_EVENT_STORED',
  /**
   * A page was removed; `reason` says why.
   */
  WATCH_EVENT_REMOVED: 'WATCH_EVENT_REMOVED',
  /**
   * Every page of `namespace` was removed (DropNamespace).
   */
  WATCH_EVENT_NAMESPACE_DROPPED: 'WATCH_EVENT_NAMESPACE_DROPPED',
  /**
   * No event: every change up to `index` has been sent (the member's applied index). Sent when
   * the watcher is caught up, at least once a second, and first thing when it starts caught up.
   */
  WATCH_EVENT_PROGRESS: 'WATCH_EVENT_PROGRESS',
} as const;

export type WatchEventType =
  | 'WATCH_EVENT_TYPE_UNSPECIFIED'
  | 0
  /**
   * A page was stored (a put of a page already stored is no event).
   */
  | 'WATCH_EVENT_STORED'
  | 1
  /**
   * A page was removed; `reason` says why.
   */
  | 'WATCH_EVENT_REMOVED'
  | 2
  /**
   * Every page of `namespace` was removed (DropNamespace).
   */
  | 'WATCH_EVENT_NAMESPACE_DROPPED'
  | 3
  /**
   * No event: every change up to `index` has been sent (the member's applied index). Sent when
   * the watcher is caught up, at least once a second, and first thing when it starts caught up.
   */
  | 'WATCH_EVENT_PROGRESS'
  | 4

export type WatchEventType__Output = typeof WatchEventType[keyof typeof WatchEventType]
