// Watch and ListPages (cache.proto): the member's page-set changes as an ordered, resumable
// stream, and the page set itself with the applied index it was taken at. Both are served by any
// member from its own applied state (src/node/watch-ring.ts holds the recent events).
//
// A Watch stream reads the ring by log index and never holds the apply path back: the ring
// appends whatever the watchers do. A watcher that reads slower than the cluster changes falls
// behind; past LIMITS.watch.lagEventsMax events it is cut with KVC_WATCH_TOO_SLOW, and it resumes
// from its last index + 1. Every message holds whole log entries (all events of one index), so
// "last index seen + 1" is always an exact place to resume.
import type * as grpc from '@grpc/grpc-js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { WatchRing } from '../node/index.js';
import type { CacheEvent, ListPosition } from '../store/index.js';
import { ALL_NAMESPACES, authorize } from './auth.js';
import { serverStream, unary } from './handlers.js';
import type { MemberContext } from './member-context.js';
import type { ListPagesRequest__Output as ListPagesRequest, ListPagesResponse, WatchEvent as WatchEventMessage, WatchRequest__Output as WatchRequest, WatchResponse } from '../proto/index.js';
import { validateKey, validateNamespace } from './validate.js';
import { WatchFrames } from './watch-codec.js';
import { loadProtos } from './protos.js';

/** Trailer of KVC_WATCH_COMPACTED: the oldest from_index the member can serve (sent as `kvc-oldest-index`). */
export const OLDEST_INDEX_TRAILER = 'oldest-index';
const PAGE_TOKEN_VERSION = 1;

/** Frames shared by every Watch stream of the process (events are per member, so never mixed up). */
let frames: WatchFrames | undefined;

function sharedFrames(): WatchFrames {
  const method = loadProtos().cache.Watch!;
  frames ??= new WatchFrames(method.responseSerialize as (value: WatchResponse) => Buffer);
  return frames;
}

export function watchServiceHandlers(ctx: MemberContext): grpc.UntypedServiceImplementation {
  return {
    Watch: serverStream<WatchRequest, WatchResponse>(ctx, 'Watch', (call) => {
      // Every namespace's events need a token that covers every namespace.
      authorize(ctx, call, 'read', call.request.namespace === '' ? ALL_NAMESPACES : call.request.namespace);
      return watch(ctx, call);
    }),
    ListPages: unary<ListPagesRequest, ListPagesResponse>(ctx, 'ListPages', (request, call) => {
      authorize(ctx, call, 'read', request.namespace === '' ? ALL_NAMESPACES : request.namespace);
      return listPages(ctx, request);
    }),
  };
}

// ---- Watch ---------------------------------------------------------------------------------

async function watch(ctx: MemberContext, call: grpc.ServerWritableStream<WatchRequest, WatchResponse>): Promise<void> {
  const request = call.request;
  const ns = request.namespace === '' ? undefined : validateNamespace(request.namespace);
  const fromIndex = request.fromIndex;
  if (!Number.isSafeInteger(fromIndex) || fromIndex < 0) {
    throw new KvcError('KVC_INVALID_ARGUMENT', { detail: `from_index ${fromIndex}: expected 0 (from now) or a log index` });
  }
  const node = ctx.requireNode();
  const ring = node.watchRing;
  if (ring.watchers() >= ring.watchersMax) {
    throw new KvcError('KVC_TOO_MANY_WATCHERS', { detail: `member ${ctx.id} serves ${ring.watchers()} watch streams already` });
  }
  const feed = new WatchFeed(ring, call, ns, () => node.stopped);
  try {
    await feed.run(fromIndex);
  } finally {
    feed.close();
  }
}

function compactedError(ring: WatchRing, cursor: number, why: string): KvcError {
  const oldest = ring.oldestIndex();
  return new KvcError('KVC_WATCH_COMPACTED', {
    detail: `index ${cursor} ${why}; the oldest this member can serve is ${oldest}`,
    trailers: { [OLDEST_INDEX_TRAILER]: String(oldest) },
  });
}

/** One Watch stream: a cursor in the ring, woken by appends, the progress timer, drain and cancel. */
class WatchFeed {
  readonly #ring: WatchRing;
  readonly #call: grpc.ServerWritableStream<WatchRequest, WatchResponse>;
  readonly #ns: string | undefined;
  readonly #stopped: () => boolean;
  readonly #unsubscribe: () => void;
  readonly #epoch: number;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(ring: WatchRing, call: grpc.ServerWritableStream<WatchRequest, WatchResponse>, ns: string | undefined, stopped: () => boolean) {
    this.#ring = ring;
    this.#call = call;
    this.#ns = ns;
    this.#stopped = stopped;
    this.#epoch = ring.epoch;
    // Subscribed at once, so it counts against watchersPerMemberMax from the start.
    this.#unsubscribe = ring.subscribe(() => this.#poke());
    call.on('cancelled', () => this.#poke());
    call.on('drain', () => this.#poke());
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
  }

  async run(fromIndex: number): Promise<void> {
    let cursor = await this.#startIndex(fromIndex);
    let progressDueMs = 0; // A watcher that starts caught up hears the applied index at once.
    while (!this.#done()) {
      this.#checkStillKept(cursor);
      const groups = this.#ring.read(cursor, this.#ring.messageEventsMax);
      if (groups.length > 0) {
        cursor = groups.at(-1)!.index + 1;
        const events = groups.flatMap((g) => g.events.filter((e) => this.#ns === undefined || e.ns === this.#ns));
        if (events.length > 0) await this.#send(sharedFrames().message(events, toMessage), cursor);
        continue;
      }
      // Caught up: no change in [cursor, applied], so the cursor may move past the applied index.
      const applied = this.#ring.appliedIndex();
      cursor = Math.max(cursor, applied + 1);
      const nowMs = performance.now();
      if (nowMs >= progressDueMs) {
        await this.#send({ events: [{ type: 'WATCH_EVENT_PROGRESS', index: applied, namespace: '', key: EMPTY, parentKey: EMPTY, bytes: 0, tokens: 0, reason: 'REMOVAL_REASON_UNSPECIFIED', crc32c: 0 }] }, cursor);
        progressDueMs = performance.now() + LIMITS.watch.progressIntervalMs;
        continue;
      }
      await this.#sleep(progressDueMs - nowMs);
      // Woken by an append: a moment more lets the next applies join the same message, so a
      // member with many watchers writes far fewer messages under a stream of small puts.
      // (A plain timer: the appends it waits for would wake #sleep at once.)
      if (this.#ring.appliedIndex() >= cursor) await new Promise((resolve) => setTimeout(resolve, LIMITS.watch.coalesceMs));
    }
    if (this.#stopped() && !this.#call.cancelled) throw new KvcError('KVC_NO_LEADER', { detail: 'the member is stopping; resume at another member' });
  }

  /** 0 = from now; an index the member has not applied yet is waited for, briefly. */
  async #startIndex(fromIndex: number): Promise<number> {
    if (fromIndex === 0) return this.#ring.appliedIndex() + 1;
    const deadlineMs = performance.now() + LIMITS.watch.futureIndexWaitMs;
    while (fromIndex > this.#ring.appliedIndex() + 1 && !this.#done()) {
      const leftMs = deadlineMs - performance.now();
      if (leftMs <= 0) {
        throw new KvcError('KVC_WATCH_FUTURE_INDEX', { detail: `from_index ${fromIndex}, this member has applied ${this.#ring.appliedIndex()}` });
      }
      await this.#sleep(leftMs);
    }
    if (fromIndex < this.#ring.oldestIndex()) throw compactedError(this.#ring, fromIndex, 'is older than the events kept');
    return fromIndex;
  }

  /** The ring still holds everything from `cursor` on. */
  #checkStillKept(cursor: number): void {
    if (this.#ring.epoch !== this.#epoch) throw compactedError(this.#ring, cursor, 'was lost: a snapshot install replaced the state');
    if (cursor < this.#ring.oldestIndex()) throw compactedError(this.#ring, cursor, 'was dropped from the ring before it was sent');
  }

  /**
   * Checked only while the reader does not take what was written: a watcher that resumes far
   * behind but reads as fast as it is sent is catching up, not slow.
   */
  #checkNotTooSlow(cursor: number): void {
    this.#checkStillKept(cursor);
    const behind = this.#ring.eventsFrom(cursor);
    if (behind > this.#ring.lagEventsMax) {
      throw new KvcError('KVC_WATCH_TOO_SLOW', {
        detail: `${behind} events behind (at most ${this.#ring.lagEventsMax}); resume from index ${cursor}`,
      });
    }
  }

  /** Writes one message; while grpc-js' buffer is full, waits for drain, checking the lag on every append. */
  async #send(message: WatchResponse | Buffer, cursor: number): Promise<void> {
    // A Buffer is a WatchResponse already encoded (watch-codec.ts); the method's serializer passes it through.
    if (this.#call.write(message as WatchResponse)) return;
    while (!this.#done() && this.#call.writableNeedDrain) {
      this.#checkNotTooSlow(cursor);
      await this.#sleep(LIMITS.watch.progressIntervalMs);
    }
  }

  #done(): boolean {
    return this.#closed || this.#call.cancelled || this.#stopped();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#poke(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

const EMPTY = new Uint8Array(0);
const REASONS = { evicted: 'REMOVAL_REASON_EVICTED', deleted: 'REMOVAL_REASON_DELETED', expired: 'REMOVAL_REASON_EXPIRED' } as const;

function toMessage(event: CacheEvent): WatchEventMessage {
  switch (event.type) {
    case 'stored':
      return {
        type: 'WATCH_EVENT_STORED',
        index: event.index,
        namespace: event.ns,
        key: event.key,
        parentKey: event.parentKey ?? EMPTY,
        bytes: event.bytes,
        tokens: event.tokens,
        reason: 'REMOVAL_REASON_UNSPECIFIED',
        crc32c: event.crc32c,
      };
    case 'removed':
      return { type: 'WATCH_EVENT_REMOVED', index: event.index, namespace: event.ns, key: event.key, parentKey: EMPTY, bytes: 0, tokens: 0, reason: REASONS[event.reason], crc32c: 0 };
    case 'namespace_dropped':
      return { type: 'WATCH_EVENT_NAMESPACE_DROPPED', index: event.index, namespace: event.ns, key: EMPTY, parentKey: EMPTY, bytes: 0, tokens: 0, reason: 'REMOVAL_REASON_UNSPECIFIED', crc32c: 0 };
  }
}

// ---- ListPages -----------------------------------------------------------------------------

interface PageToken {
  /** The applied index of the listing's first answer: the watch starts after it. */
  firstIndex: number;
  after: ListPosition;
}

async function listPages(ctx: MemberContext, request: ListPagesRequest): Promise<ListPagesResponse> {
  const ns = request.namespace === '' ? undefined : validateNamespace(request.namespace);
  const token = request.pageToken === '' ? undefined : decodePageToken(request.pageToken, ns);
  const max = LIMITS.watch.listPagesPerCallMax;
  const limit = request.limit === 0 || request.limit > max ? max : request.limit;
  const listed = await ctx.requireNode().listPages(ns, token?.after, limit);
  const firstIndex = token?.firstIndex ?? listed.appliedIndex;
  const last = listed.pages.at(-1);
  const next = listed.more && last !== undefined ? encodePageToken(ns, { firstIndex, after: { ns: last.ns, key: last.key } }) : '';
  return {
    pages: listed.pages.map((p) => ({ namespace: p.ns, key: p.key, parentKey: p.parentKey ?? EMPTY, bytes: p.bytes, tokens: p.tokens })),
    appliedIndex: listed.appliedIndex,
    nextPageToken: next,
    watchFromIndex: firstIndex + 1,
  };
}

/** base64url of a JSON array [version, namespace asked for, first index, last namespace, last key hex]. */
function encodePageToken(ns: string | undefined, token: PageToken): string {
  const fields = [PAGE_TOKEN_VERSION, ns ?? '', token.firstIndex, token.after.ns, Buffer.from(token.after.key).toString('hex')];
  return Buffer.from(JSON.stringify(fields)).toString('base64url');
}

function decodePageToken(text: string, ns: string | undefined): PageToken {
  const bad = (why: string): KvcError => new KvcError('KVC_INVALID_PAGE_TOKEN', { detail: why });
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a token this server issued');
  }
  if (!Array.isArray(fields) || fields.length !== 5) throw bad('not a token this server issued');
  const [version, tokenNs, firstIndex, afterNs, afterKey] = fields as unknown[];
  if (version !== PAGE_TOKEN_VERSION) throw bad(`unknown token version ${String(version)}`);
  if (tokenNs !== (ns ?? '')) throw bad('the token belongs to a listing of another namespace');
  if (typeof firstIndex !== 'number' || !Number.isSafeInteger(firstIndex) || firstIndex < 0) throw bad('bad index');
  if (typeof afterNs !== 'string' || typeof afterKey !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(afterKey)) throw bad('bad position');
  if (ns !== undefined && afterNs !== ns) throw bad('the position is outside the namespace');
  try {
    return { firstIndex, after: { ns: validateNamespace(afterNs), key: validateKey(Buffer.from(afterKey, 'hex')) } };
  } catch (error) {
    throw bad(`bad position: ${error instanceof Error ? error.message : String(error)}`);
  }
}
