// CacheService: what inference workers call (cache.proto). Reads (Lookup, GetPages) are served by
// any member from its applied state; writes go through the leader's log. Every input is checked
// here before it reaches the node (validate.ts), and every failure leaves as a gRPC status with
// its KVC_* trailer (handlers.ts, errors.ts). Every handler first passes auth.ts's authorize
// with its scope (read or write) and namespace.
import { steadyWallClockMs } from '../clock.js';
import type * as grpc from '@grpc/grpc-js';
import { noteCrc32c, offerRoomBefore, putPayloadBuffer, type Command, type PageMeta } from '../codec/index.js';
import { KvcError } from '../errors.js';
import type { ClusterNode } from '../node/index.js';
import type { WorkPool } from '../workers/index.js';
import type { ApplyResult } from '../store/index.js';
import { authorize } from './auth.js';
import { storeConversionFor } from './dtype-convert.js';
import { getPages } from './get-pages.js';
import { clientStream, serverStream, unary } from './handlers.js';
import type { MemberContext } from './member-context.js';
import { PageAssembler, type AssembledPage } from './page-assembler.js';
// The generated message types (src/proto), named as this file's handlers read them: a request as
// it arrives (`__Output`), a response as a handler writes it. DeletePages and UnpinPages take the
// same two fields; DeletePagesRequest stands for both. And inRoomyBuffer (src/proto receive-room.ts).
import {
  type DeletePagesResponse as Empty,
  type DeletePagesRequest__Output as KeysRequest,
  type GetPagesRequest__Output as GetPagesRequest,
  type GetPagesResponse,
  type LookupRequest__Output as LookupRequest,
  type LookupResponse,
  type PinPagesRequest__Output as PinPagesRequest,
  type PutPagesRequest__Output as PutPagesRequest,
  type PutPagesResponse,
  type PutResult,
  type ReleasePagesRequest__Output as ReleasePagesRequest,
  inRoomyBuffer,
} from '../proto/index.js';
import { releasePages } from './shared-transfer.js';
import { watchServiceHandlers } from './watch-service.js';
import { checksumMismatch, validateKeyCount, validateKeys, validateLeaseMs, validateNamespace, validatePinTtlMs, type ValidatedPutMeta } from './validate.js';

/**
 * Bytes of pages one PutPages stream may have proposed and not yet seen applied. Past it the
 * handler stops reading the stream, so a fast client is slowed to the cluster's commit rate by
 * HTTP/2 flow control instead of filling the leader's memory.
 */
export const PUT_STREAM_INFLIGHT_BYTES_MAX = 64 * 1024 * 1024;

export function cacheServiceHandlers(ctx: MemberContext): grpc.UntypedServiceImplementation {
  return {
    Lookup: unary<LookupRequest, LookupResponse>(ctx, 'Lookup', (request, call) => {
      authorize(ctx, call, 'read', request.namespace);
      return lookup(ctx, request, call);
    }),
    GetPages: serverStream<GetPagesRequest, GetPagesResponse>(ctx, 'GetPages', (call) => {
      authorize(ctx, call, 'read', call.request.namespace);
      return getPages(ctx, call);
    }),
    // Each page names its namespace; putPages checks it as the page completes.
    PutPages: clientStream<PutPagesRequest, PutPagesResponse>(ctx, 'PutPages', (call) => {
      authorize(ctx, call, 'write');
      return putPages(ctx, {
        messages: call.iterator({ destroyOnReturn: false }) as AsyncIterable<PutPagesRequest>,
        timeoutMs: () => ctx.timeoutMs(call),
        authorize: (namespace) => authorize(ctx, call, 'write', namespace),
      });
    }),
    DeletePages: unary<KeysRequest, Empty>(ctx, 'DeletePages', (request, call) => {
      authorize(ctx, call, 'write', request.namespace);
      const ns = validateNamespace(request.namespace);
      return proposeOk(ctx, call, { op: 'delete', ns, keys: validateKeys(request.keys) });
    }),
    PinPages: unary<PinPagesRequest, Empty>(ctx, 'PinPages', (request, call) => {
      authorize(ctx, call, 'write', request.namespace);
      const ns = validateNamespace(request.namespace);
      const keys = validateKeys(request.keys);
      // The pin's start time is the leader's clock, carried in the command so every replica agrees.
      const command: Command = { op: 'pin', ns, keys, ttlMs: validatePinTtlMs(request.ttlMs), nowMs: steadyWallClockMs() };
      return proposeOk(ctx, call, command);
    }),
    UnpinPages: unary<KeysRequest, Empty>(ctx, 'UnpinPages', (request, call) => {
      authorize(ctx, call, 'write', request.namespace);
      const ns = validateNamespace(request.namespace);
      return proposeOk(ctx, call, { op: 'unpin', ns, keys: validateKeys(request.keys) });
    }),
    ReleasePages: unary<ReleasePagesRequest, Empty>(ctx, 'ReleasePages', (request, call) => {
      authorize(ctx, call, 'read');
      return Promise.resolve().then(() => releasePages(ctx, request));
    }),
    // Watch and ListPages (read scope), in their own file.
    ...watchServiceHandlers(ctx),
  };
}

async function lookup(ctx: MemberContext, request: LookupRequest, call: grpc.ServerUnaryCall<LookupRequest, LookupResponse>): Promise<LookupResponse> {
  const ns = validateNamespace(request.namespace);
  const keys = validateKeys(request.keys);
  // A batch of prompts (the client's concurrent callers): each answered as if asked alone, every
  // prompt checked before any is answered. One pass each, no arrays in between: a round of 100
  // lookups issued together brings 50 prompts per call.
  const more = request.morePrompts ?? [];
  let keyCount = keys.length;
  for (const prompt of more) keyCount += validateKeys((prompt.keys ??= [])).length;
  validateKeyCount(keyCount);
  const leaseMs = validateLeaseMs(request.leaseMs);
  const node = ctx.requireNode();
  if (request.linearizable) await node.linearizableRead(ctx.timeoutMs(call));
  const matched = node.lookup(ns, keys, leaseMs);
  const moreMatched = new Array<number>(more.length);
  for (let i = 0; i < more.length; i++) moreMatched[i] = node.lookup(ns, more[i]!.keys!, leaseMs);
  return { matched, appliedIndex: node.store.appliedIndex(), moreMatched };
}

/** Proposes a command whose result is always ok (delete, pin, unpin, drop) and answers empty. */
export async function proposeOk(ctx: MemberContext, call: { getDeadline(): grpc.Deadline }, command: Command): Promise<Empty> {
  const result = await ctx.requireLeader().propose(command, ctx.timeoutMs(call));
  if (!result.ok) throw new KvcError(result.code, { detail: result.message });
  return {};
}

// ---- PutPages ------------------------------------------------------------------------------

type Settled = { ok: true; result: PutResult } | { ok: false; error: unknown };
type StoredPage = { meta: PageMeta; data: Uint8Array };

/**
 * Reads pages off the stream and, as soon as one is complete, starts its preparation (checksum
 * check, store_dtype conversion, stored checksum) in the member's work pool, so a 32 MiB page is
 * converted off the event loop while the next one is read. Pages are proposed in stream order
 * as their preparations finish (the node folds concurrent proposals into one Raft append), and
 * the call answers once every page is applied. A page the stream did not finish is never
 * proposed, so a client that goes away mid-page leaves nothing half-stored; pages it finished
 * before are stored (puts are idempotent, so its retry is safe). After a page fails its
 * checksum, no later page of the stream is proposed.
 */
export function putPages(ctx: MemberContext, call: PutCall): Promise<PutPagesResponse> {
  // The answer waits in a frame of its own: the reading loop's frame, which holds its last
  // message and page (payload and all), is gone once the stream ended, not kept until every page
  // is applied (a payload held that long outlived young-generation GCs, and each one freed later
  // took a full GC; docs/BENCHMARKS.md, peers).
  return readAndPropose(ctx, call).then(answerWhenApplied);
}

/**
 * One PutPages call as putPages reads it, whichever way it came (a gRPC client stream, or the put
 * lane, put-lane.ts): its messages in order, the time it may still take, and the check that its
 * caller may write a page's namespace.
 */
export interface PutCall {
  /** Ends when the client half-closed; throws when the call broke. Not destroyed on an early exit, so an error can still be answered. */
  messages: AsyncIterable<PutPagesRequest>;
  timeoutMs(): number;
  /** Throws KVC_UNAUTHENTICATED or KVC_PERMISSION_DENIED unless the caller may write `namespace`. */
  authorize(namespace: string): void;
}

/** PutPages' reading loop: each page proposed as soon as it is prepared; resolves once the stream ended. */
async function readAndPropose(ctx: MemberContext, call: PutCall): Promise<Promise<Settled>[]> {
  ctx.requireLeader();
  const assembler = new PageAssembler((meta) => payloadBufferFor(ctx.pool, meta));
  const window = new InflightWindow(PUT_STREAM_INFLIGHT_BYTES_MAX);
  const order = new ProposalOrder();
  const settled: Promise<Settled>[] = [];
  // Not async: a member that lost its leadership throws here, at once, which stops the stream.
  const propose = (stored: StoredPage): Promise<PutResult> => proposePut(ctx.requireLeader(), stored, call.timeoutMs());
  for await (const message of call.messages) {
    window.throwFirstError();
    const page = assembler.push(message);
    if (page === undefined) continue;
    ctx.transferred('in', page.data.byteLength);
    call.authorize(page.meta.ns);
    offerReceivedRoom(page);
    const prepared = prepareForStore(ctx.pool, page);
    settled.push(window.add(page.meta.bytes, order.propose(prepared, propose)));
    await window.waitBelowLimit();
  }
  assembler.finish();
  return settled;
}

async function answerWhenApplied(settled: Promise<Settled>[]): Promise<PutPagesResponse> {
  const outcomes = await Promise.all(settled);
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed !== undefined && !failed.ok) throw failed.error;
  return { results: outcomes.map((outcome) => (outcome as { result: PutResult }).result) };
}

/**
 * Proposes one page. Its key is taken out first: the callback that waits for the apply then holds
 * the key alone, not the page, so the payload is garbage once the proposal is encoded (held until
 * the apply, it outlived young-generation GCs and every one freed later took a full GC).
 */
function proposePut(node: ClusterNode, stored: StoredPage, timeoutMs: number): Promise<PutResult> {
  const { key } = stored.meta;
  return node.propose({ op: 'put', pages: [stored] }, timeoutMs).then((result) => toPutResult(key, result));
}

/**
 * A page that came in one message, received into a buffer of its own with room in front (src/proto
 * receive-room.ts): every byte before its data there is dead once the message is decoded and
 * validated (validatePutMeta copies the key and parent key out of it), so the codec may write the
 * proposal's head there and the leader's Raft entry is that buffer: no copy of the payload, and
 * no fresh MiB-sized buffer per put (docs/BENCHMARKS.md, peers).
 */
function offerReceivedRoom(page: AssembledPage): void {
  if (!page.owned && inRoomyBuffer(page.data)) offerRoomBefore(page.data, page.data.byteOffset);
}

/**
 * Where a page that arrives in several messages is assembled: with room in front for its
 * proposal's head (codec putPayloadBuffer), so the leader's Raft entry is that very buffer and
 * the payload is copied once on the leader (into it) instead of twice. Only when the bytes stay
 * as they are (no store_dtype conversion) and their checksum runs inline: a view is copied before
 * it goes to a worker, while the assembler's own whole buffer is moved there.
 */
function payloadBufferFor(pool: WorkPool, meta: ValidatedPutMeta): Uint8Array | undefined {
  if ((meta.storeDtype ?? meta.dtype) !== meta.dtype || pool.offloadsPreparePut(meta.bytes, false)) return undefined;
  return putPayloadBuffer(meta, meta.bytes);
}

/**
 * The page as the store keeps it: its received bytes checked against the client's crc32c
 * (KVC_CHECKSUM_MISMATCH), converted to store_dtype, with the crc32c of what is stored;
 * createdAtMs is the leader's clock. An impossible store_dtype fails at once (KVC_UNKNOWN_DTYPE),
 * before anything runs. The work pool decides whether this runs inline or in a worker; either
 * way `page.data` must not be used afterwards (an owned buffer is moved to the worker).
 */
function prepareForStore(pool: WorkPool, page: AssembledPage): Promise<StoredPage> {
  const m = page.meta;
  const dtype = m.storeDtype ?? m.dtype;
  const conversion = storeConversionFor(m.dtype, dtype);
  const job = { data: page.data, expectedCrc32c: m.crc32c, ...(conversion !== undefined ? { conversion } : {}) };
  return pool.preparePut(job, page.owned).then((prepared) => {
    if (!prepared.ok) throw checksumMismatch(m.key, prepared.actualCrc32c, m.crc32c);
    // The WAL and the apply use this checksum instead of reading the payload twice more.
    noteCrc32c(prepared.data, prepared.crc32c);
    const meta: PageMeta = {
      ns: m.ns,
      key: m.key,
      dtype,
      shape: m.shape,
      tokens: m.tokens,
      bytes: prepared.data.byteLength,
      crc32c: prepared.crc32c,
      createdAtMs: steadyWallClockMs(),
    };
    if (m.parentKey !== undefined) meta.parentKey = m.parentKey;
    if (m.ttlMs !== undefined) meta.ttlMs = m.ttlMs;
    return { meta, data: prepared.data };
  });
}

function toPutResult(key: Uint8Array, result: ApplyResult): PutResult {
  return result.ok ? { key, code: '', message: '' } : { key, code: result.code, message: result.message };
}

/**
 * Proposes the pages of one stream in stream order, whatever order their preparations finish in
 * (a small page behind a large one is ready first), so a stream's pages reach the log in the
 * order the client sent them. Once one page fails (its checksum, or it cannot be proposed), no
 * later page is proposed: each fails with that first error, as a synchronous check would have
 * stopped the stream.
 */
class ProposalOrder {
  #tail: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | undefined;

  propose(prepared: Promise<StoredPage>, propose: (page: StoredPage) => Promise<PutResult>): Promise<PutResult> {
    const previous = this.#tail;
    let proposed!: () => void;
    this.#tail = new Promise((resolve) => (proposed = resolve));
    // Awaited below, possibly only after it has failed: handled now so it never counts as unhandled.
    prepared.catch(() => undefined);
    return (async () => {
      let result: Promise<PutResult>;
      try {
        await previous;
        if (this.#failure !== undefined) throw this.#failure.error;
        result = propose(await prepared);
      } catch (error) {
        this.#failure ??= { error };
        throw error;
      } finally {
        proposed();
      }
      return result;
    })();
  }
}

/** Pages of one stream being prepared or proposed and not applied yet, by bytes; never lets a rejection go unhandled. */
class InflightWindow {
  readonly #limitBytes: number;
  #bytes = 0;
  readonly #pending = new Set<Promise<Settled>>();
  #firstError: { error: unknown } | undefined;

  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  add(bytes: number, proposal: Promise<PutResult>): Promise<Settled> {
    this.#bytes += bytes;
    const settled: Promise<Settled> = proposal.then(
      (result): Settled => ({ ok: true, result }),
      (error: unknown): Settled => {
        this.#firstError ??= { error };
        return { ok: false, error };
      },
    );
    const tracked = settled.finally(() => {
      this.#bytes -= bytes;
      this.#pending.delete(tracked);
    });
    this.#pending.add(tracked);
    return tracked;
  }

  async waitBelowLimit(): Promise<void> {
    while (this.#bytes > this.#limitBytes && this.#pending.size > 0) await Promise.race(this.#pending);
  }

  /** Stops the stream early once a page failed (checksum, leadership lost, deadline): the answer is already known. */
  throwFirstError(): void {
    if (this.#firstError !== undefined) throw this.#firstError.error;
  }
}
