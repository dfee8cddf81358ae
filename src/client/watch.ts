// KvcClient.watch: the cluster's page-set changes as an async iterator that survives member
// failures. It holds one Watch stream to one member and remembers the next index it needs (the
// last message's last index + 1; all events of one index always come in one message, so that
// place is exact). When the stream fails — the member died or restarted, the network dropped,
// the member cut a slow reader, a follower has not applied that far yet — it opens a new stream
// from that index at the next member, after a backoff, so the consumer sees every change once,
// in log order. A member that no longer keeps that index (KVC_WATCH_COMPACTED: its ring is
// memory only and restarts empty) is skipped while another may still keep it; when every known
// member says so, the error reaches the consumer, who relists (listPages) and watches from the
// listing's watchFromIndex.

import * as grpc from '@grpc/grpc-js';
import { KvcClientError, toClientError } from './client-error.js';
import type { EndpointPool } from './endpoint-pool.js';
import type { Rpc } from './protos.js';
import type { WatchEvent__Output as WatchEventMessage, WatchRequest, WatchResponse__Output as WatchResponse } from '../proto/index.js';
import { backoffMs, sleep, type RetryPolicy } from './retry.js';

/** Failed streams in a row (no message between them) before watch() gives up. */
export const DEFAULT_WATCH_RESUMES_MAX = 20;

export type WatchEventType = 'stored' | 'removed' | 'namespace_dropped' | 'progress';

export interface WatchEvent {
  type: WatchEventType;
  /** The log index of the change; for progress, the index every change up to which was sent. */
  index: number;
  /** Empty for progress. */
  namespace: string;
  /** Empty for namespace_dropped and progress. */
  key: Uint8Array;
  /** stored: the page's parent key (empty for a first block), bytes and tokens. */
  parentKey: Uint8Array;
  bytes: number;
  tokens: number;
  /** stored: the stored payload's crc32c (0 otherwise). */
  crc32c: number;
  /** removed: why. */
  reason?: 'evicted' | 'deleted' | 'expired';
  /** The member whose feed delivered it. */
  endpoint: string;
}

export interface WatchOptions {
  /** Only this namespace's changes (progress events always come); default every namespace. */
  namespace?: string;
  /**
   * First log index to deliver (last seen + 1, or a listing's watchFromIndex); default 0 = from
   * now. Resumes after failures always continue exactly where the last stream stopped.
   */
  fromIndex?: number;
  /** Start at this member (it still fails over to others). */
  endpoint?: string;
  /** Ends the iteration (no error) when aborted. */
  signal?: AbortSignal;
  /** Failed streams in a row before giving up (default 20). */
  resumesMax?: number;
  /** Told of each resume: where from, at which index, after what error. */
  onResume?: (info: { from: string; to: string; fromIndex: number; error: KvcClientError }) => void;
}

export interface WatchDeps {
  pool: EndpointPool;
  rpc: Rpc<WatchRequest, WatchResponse>;
  policy: RetryPolicy;
  /** The metadata of each Watch call (the client's bearer token). */
  metadata: () => grpc.Metadata;
  /** Aborted when the client closes: the watch ends at once (closing a channel leaves its streams open). */
  closed: AbortSignal;
}

const TYPES: Readonly<Record<string, WatchEventType>> = {
  WATCH_EVENT_STORED: 'stored',
  WATCH_EVENT_REMOVED: 'removed',
  WATCH_EVENT_NAMESPACE_DROPPED: 'namespace_dropped',
  WATCH_EVENT_PROGRESS: 'progress',
};
const REASONS: Readonly<Record<string, 'evicted' | 'deleted' | 'expired'>> = {
  REMOVAL_REASON_EVICTED: 'evicted',
  REMOVAL_REASON_DELETED: 'deleted',
  REMOVAL_REASON_EXPIRED: 'expired',
};
/** The caller's request is wrong: no member will take it. */
const FATAL_CODES: ReadonlySet<string> = new Set(['KVC_INVALID_ARGUMENT', 'KVC_INVALID_NAMESPACE', 'KVC_UNAUTHENTICATED']);

export async function* watchEvents(deps: WatchDeps, o: WatchOptions): AsyncGenerator<WatchEvent, void, undefined> {
  const resumesMax = o.resumesMax ?? DEFAULT_WATCH_RESUMES_MAX;
  let next = o.fromIndex ?? 0;
  if (!Number.isSafeInteger(next) || next < 0) throw new RangeError(`fromIndex must be a non-negative integer, got ${next}`);
  let endpoint = o.endpoint ?? deps.pool.nextReplica();
  if (o.endpoint !== undefined) deps.pool.add(o.endpoint);
  let failures = 0;
  /** Members that answered KVC_WATCH_COMPACTED for `next`: skipped until it moves. */
  const compacted = new Set<string>();
  const signals = o.signal === undefined ? [deps.closed] : [deps.closed, o.signal];
  const aborted = (): boolean => signals.some((signal) => signal.aborted);
  while (!aborted()) {
    const call = deps.pool.client(endpoint).makeServerStreamRequest(
      deps.rpc.path,
      deps.rpc.serialize,
      deps.rpc.deserialize,
      { namespace: o.namespace ?? '', fromIndex: next },
      deps.metadata(),
      {},
    ) as grpc.ClientReadableStream<WatchResponse>;
    call.on('error', () => undefined);
    const abort = (): void => call.cancel();
    for (const signal of signals) signal.addEventListener('abort', abort);
    let failure: KvcClientError;
    try {
      for await (const message of call) {
        failures = 0;
        compacted.clear();
        for (const event of message.events) {
          const out = toEvent(event, endpoint);
          if (out === undefined) continue;
          next = Math.max(next, out.index + 1);
          yield out;
        }
      }
      failure = new KvcClientError('KVC_UNAVAILABLE', `KVC_UNAVAILABLE: the watch stream ended (from ${endpoint})`, { grpcCode: grpc.status.UNAVAILABLE, endpoint });
    } catch (thrown) {
      if (aborted()) return;
      failure = toClientError(thrown, endpoint);
    } finally {
      for (const signal of signals) signal.removeEventListener('abort', abort);
      call.cancel();
    }
    if (FATAL_CODES.has(failure.code)) throw failure;
    if (failure.code === 'KVC_WATCH_COMPACTED') {
      compacted.add(endpoint);
      if (deps.pool.known().every((e) => compacted.has(e))) throw failure;
    }
    if (++failures > resumesMax) {
      failure.attempts = failures;
      throw failure;
    }
    const to = nextEndpoint(deps.pool, endpoint, failure, compacted);
    o.onResume?.({ from: endpoint, to, fromIndex: next, error: failure });
    // A slow reader cut off resumes at once; anything else waits, as other retries do.
    if (failure.code !== 'KVC_WATCH_TOO_SLOW') await sleep(backoffMs(deps.policy, failures - 1));
    if (aborted()) return;
    endpoint = to;
  }
}

/** A slow reader stays; otherwise the next member in turn that has not said it lacks the index. */
function nextEndpoint(pool: EndpointPool, endpoint: string, failure: KvcClientError, compacted: ReadonlySet<string>): string {
  if (failure.code === 'KVC_WATCH_TOO_SLOW') return endpoint;
  for (let i = 0; i < pool.known().length; i++) {
    const candidate = pool.nextReplica();
    if (candidate !== endpoint && !compacted.has(candidate)) return candidate;
  }
  return endpoint;
}

function toEvent(event: WatchEventMessage, endpoint: string): WatchEvent | undefined {
  const type = typeof event.type === 'string' ? TYPES[event.type] : undefined;
  if (type === undefined) return undefined; // A type a newer server added: skipped.
  const out: WatchEvent = {
    type,
    index: event.index,
    namespace: event.namespace,
    key: new Uint8Array(event.key),
    parentKey: new Uint8Array(event.parentKey),
    bytes: event.bytes,
    tokens: event.tokens,
    crc32c: event.crc32c,
    endpoint,
  };
  const reason = typeof event.reason === 'string' ? REASONS[event.reason] : undefined;
  if (type === 'removed' && reason !== undefined) out.reason = reason;
  return out;
}
