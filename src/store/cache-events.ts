// What one applied entry changed in the page set, as the Watch feed reports it (cache.proto
// WatchEvent). The apply batch produces these beside its LevelDB writes, in log order, one entry
// after another; the store hands them out only once the batch that made them is durable, so a
// watcher never sees a change that a crash could undo on this member. Only changes to the page
// set are events: a put of a page that is already stored, a refused put, pins and settings are
// not.

export type CacheEvent =
  | { type: 'stored'; index: number; ns: string; key: Uint8Array; parentKey: Uint8Array | undefined; bytes: number; tokens: number; crc32c: number }
  | { type: 'removed'; index: number; ns: string; key: Uint8Array; reason: 'evicted' | 'deleted' | 'expired' }
  | { type: 'namespace_dropped'; index: number; ns: string };

/** Bytes an event holds in memory besides its variable parts (object, fields, array slot). */
const EVENT_OVERHEAD_BYTES = 96;

/** An estimate of what an event costs in memory: what the watch ring counts against its byte limit. */
export function cacheEventBytes(event: CacheEvent): number {
  let bytes = EVENT_OVERHEAD_BYTES + event.ns.length;
  if (event.type !== 'namespace_dropped') bytes += event.key.byteLength;
  if (event.type === 'stored' && event.parentKey !== undefined) bytes += event.parentKey.byteLength;
  return bytes;
}

/**
 * Told of each applied batch once it is durable: its events in log order and the applied index
 * after it (batches without events are reported too, so a watcher learns the index moved).
 */
export type AppliedListener = (events: readonly CacheEvent[], appliedIndex: number) => void;
