// CacheService: what inference workers call (cache.proto). Reads (Lookup, GetPages) are served by
// any member from its applied state; writes go through the leader's log. Every input is checked
// here before it reaches the node (validate.ts), and every failure leaves as a gRPC status with
// its KVC_* trailer (handlers.ts, errors.ts).
import type * as grpc from '@grpc/grpc-js';
import { crc32c, type Command, type Dtype, type PageMeta } from '../codec/index.js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { ApplyResult } from '../store/index.js';
import { convertForRead, convertForStore } from './dtype-convert.js';
import { clientStream, serverStream, unary } from './handlers.js';
import type { MemberContext } from './member-context.js';
import { PageAssembler, type AssembledPage } from './page-assembler.js';
import type {
  Empty,
  GetPagesRequest,
  GetPagesResponse,
  KeysRequest,
  LookupRequest,
  LookupResponse,
  PageMetaOut,
  PinPagesRequest,
  PutPagesRequest,
  PutPagesResponse,
  PutResult,
} from './proto-types.js';
import { dtypeToProto, optionalDtypeFromProto, validateKeys, validateNamespace } from './validate.js';

/**
 * Bytes of pages one PutPages stream may have proposed and not yet seen applied. Past it the
 * handler stops reading the stream, so a fast client is slowed to the cluster's commit rate by
 * HTTP/2 flow control instead of filling the leader's memory.
 */
export const PUT_STREAM_INFLIGHT_BYTES_MAX = 64 * 1024 * 1024;
/** Pins expire after at most this long (cache.proto); longer requests are shortened to it. */
export const PIN_TTL_MS_MAX = 60 * 60 * 1000;

export function cacheServiceHandlers(ctx: MemberContext): grpc.UntypedServiceImplementation {
  return {
    Lookup: unary<LookupRequest, LookupResponse>(ctx, 'Lookup', (request, call) => lookup(ctx, request, call)),
    GetPages: serverStream<GetPagesRequest, GetPagesResponse>(ctx, 'GetPages', (call) => getPages(ctx, call)),
    PutPages: clientStream<PutPagesRequest, PutPagesResponse>(ctx, 'PutPages', (call) => putPages(ctx, call)),
    DeletePages: unary<KeysRequest, Empty>(ctx, 'DeletePages', (request, call) => {
      const ns = validateNamespace(request.namespace);
      return proposeOk(ctx, call, { op: 'delete', ns, keys: validateKeys(request.keys) });
    }),
    PinPages: unary<PinPagesRequest, Empty>(ctx, 'PinPages', (request, call) => {
      const ns = validateNamespace(request.namespace);
      const keys = validateKeys(request.keys);
      // The pin's start time is the leader's clock, carried in the command so every replica agrees.
      const command: Command = { op: 'pin', ns, keys, ttlMs: Math.min(request.ttlMs, PIN_TTL_MS_MAX), nowMs: Date.now() };
      return proposeOk(ctx, call, command);
    }),
    UnpinPages: unary<KeysRequest, Empty>(ctx, 'UnpinPages', (request, call) => {
      const ns = validateNamespace(request.namespace);
      return proposeOk(ctx, call, { op: 'unpin', ns, keys: validateKeys(request.keys) });
    }),
  };
}

async function lookup(ctx: MemberContext, request: LookupRequest, call: grpc.ServerUnaryCall<LookupRequest, LookupResponse>): Promise<LookupResponse> {
  const ns = validateNamespace(request.namespace);
  const keys = validateKeys(request.keys);
  const node = ctx.requireNode();
  if (request.linearizable) await node.linearizableRead(ctx.timeoutMs(call));
  const matched = await node.lookup(ns, keys);
  return { matched, appliedIndex: node.store.appliedIndex() };
}

/** Proposes a command whose result is always ok (delete, pin, unpin, drop) and answers empty. */
export async function proposeOk(ctx: MemberContext, call: { getDeadline(): grpc.Deadline }, command: Command): Promise<Empty> {
  const result = await ctx.requireLeader().propose(command, ctx.timeoutMs(call));
  if (!result.ok) throw new KvcError(result.code, { detail: result.message });
  return {};
}

// ---- GetPages ------------------------------------------------------------------------------

interface LayerRange {
  begin: number;
  end: number;
}

async function getPages(ctx: MemberContext, call: grpc.ServerWritableStream<GetPagesRequest, GetPagesResponse>): Promise<void> {
  const request = call.request;
  const ns = validateNamespace(request.namespace);
  const keys = validateKeys(request.keys);
  const asDtype = optionalDtypeFromProto(request.asDtype, 'as_dtype');
  const range = layerRange(request.layerBegin, request.layerEnd);
  const node = ctx.requireNode();
  for (const key of keys) {
    if (call.cancelled) return;
    const page = await node.getPage(ns, key);
    if (page === undefined) {
      throw new KvcError('KVC_NOT_FOUND', { detail: `page ${Buffer.from(key).toString('hex')} in namespace ${ns}` });
    }
    const { meta, data } = payloadToSend(page.meta, page.data, range, asDtype);
    await writeChunks(call, meta, data);
  }
}

/** Both 0 = the whole page; otherwise [begin, end) must be a non-empty range (checked against each page's shape later). */
function layerRange(begin: number, end: number): LayerRange | undefined {
  if (begin === 0 && end === 0) return undefined;
  if (end <= begin) throw new KvcError('KVC_SHAPE_MISMATCH', { detail: `layer range [${begin}, ${end}) is empty` });
  return { begin, end };
}

/**
 * The page as it will travel: sliced to the layer range (layer-major layout makes it one
 * contiguous byte range), then converted. The returned meta describes these bytes (dtype, shape,
 * bytes and crc32c as they travel, cache.proto), so the client can check what it receives.
 */
function payloadToSend(stored: PageMeta, data: Uint8Array, range: LayerRange | undefined, asDtype: Dtype | undefined): { meta: PageMetaOut; data: Uint8Array } {
  let payload = data;
  let shape = stored.shape;
  if (range !== undefined) {
    const layers = stored.shape[0]!;
    if (range.end > layers) {
      throw new KvcError('KVC_SHAPE_MISMATCH', { detail: `layer range [${range.begin}, ${range.end}) is outside the page's ${layers} layers` });
    }
    const layerBytes = stored.bytes / layers;
    payload = data.subarray(range.begin * layerBytes, range.end * layerBytes);
    shape = [range.end - range.begin, ...stored.shape.slice(1)];
  }
  const dtype = asDtype ?? stored.dtype;
  payload = convertForRead(payload, stored.dtype, dtype);
  const transformed = payload !== data;
  const meta: PageMetaOut = {
    namespace: stored.ns,
    key: stored.key,
    dtype: dtypeToProto(dtype),
    shape,
    tokens: stored.tokens,
    bytes: payload.byteLength,
    crc32c: transformed ? crc32c(payload) : stored.crc32c,
    createdAtMs: stored.createdAtMs,
  };
  if (stored.parentKey !== undefined) meta.parentKey = stored.parentKey;
  if (stored.ttlMs !== undefined) meta.ttlMs = stored.ttlMs;
  return { meta, data: payload };
}

/** Streams one page in chunks of at most LIMITS.page.chunkBytes, waiting whenever the stream is full. */
async function writeChunks(call: grpc.ServerWritableStream<GetPagesRequest, GetPagesResponse>, meta: PageMetaOut, data: Uint8Array): Promise<void> {
  const chunkBytes = LIMITS.page.chunkBytes;
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    if (call.cancelled) return;
    const end = Math.min(offset + chunkBytes, data.byteLength);
    const message: GetPagesResponse = { meta: offset === 0 ? meta : null, data: data.subarray(offset, end), offset, last: end === data.byteLength };
    if (!call.write(message)) await drained(call);
  }
}

/** Resolves when the stream can take more, or when it is over (cancelled, closed, failed). */
function drained(stream: grpc.ServerWritableStream<GetPagesRequest, GetPagesResponse>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('cancelled', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('cancelled', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

// ---- PutPages ------------------------------------------------------------------------------

type Settled = { ok: true; result: PutResult } | { ok: false; error: unknown };

/**
 * Reads pages off the stream, proposes one put per page as soon as it is complete (the node folds
 * concurrent proposals into one Raft append), and answers once every page is applied. A page
 * the stream did not finish is never proposed, so a client that goes away mid-page leaves
 * nothing half-stored; pages it finished before are stored (puts are idempotent, so its retry is
 * safe).
 */
async function putPages(ctx: MemberContext, call: grpc.ServerReadableStream<PutPagesRequest, PutPagesResponse>): Promise<PutPagesResponse> {
  ctx.requireLeader();
  const assembler = new PageAssembler();
  const window = new InflightWindow(PUT_STREAM_INFLIGHT_BYTES_MAX);
  const settled: Promise<Settled>[] = [];
  // Not destroying the stream on an early exit lets grpc-js still send the error status.
  for await (const message of call.iterator({ destroyOnReturn: false }) as AsyncIterable<PutPagesRequest>) {
    window.throwFirstError();
    const page = assembler.push(message);
    if (page === undefined) continue;
    const stored = pageToStore(page);
    const proposal = ctx.requireLeader().propose({ op: 'put', pages: [stored] }, ctx.timeoutMs(call));
    settled.push(window.add(stored.meta.bytes, proposal.then((result) => toPutResult(stored.meta.key, result))));
    await window.waitBelowLimit();
  }
  assembler.finish();
  const outcomes = await Promise.all(settled);
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed !== undefined && !failed.ok) throw failed.error;
  return { results: outcomes.map((outcome) => (outcome as { result: PutResult }).result) };
}

/** Applies store_dtype and builds the store's PageMeta; createdAtMs is the leader's clock. */
function pageToStore(page: AssembledPage): { meta: PageMeta; data: Uint8Array } {
  const m = page.meta;
  const dtype = m.storeDtype ?? m.dtype;
  const data = convertForStore(page.data, m.dtype, dtype);
  const meta: PageMeta = {
    ns: m.ns,
    key: m.key,
    dtype,
    shape: m.shape,
    tokens: m.tokens,
    bytes: data.byteLength,
    crc32c: data === page.data ? m.crc32c : crc32c(data),
    createdAtMs: Date.now(),
  };
  if (m.parentKey !== undefined) meta.parentKey = m.parentKey;
  if (m.ttlMs !== undefined) meta.ttlMs = m.ttlMs;
  return { meta, data };
}

function toPutResult(key: Uint8Array, result: ApplyResult): PutResult {
  return result.ok ? { key, code: '', message: '' } : { key, code: result.code, message: result.message };
}

/** Proposals of one stream that are not applied yet, by bytes; never lets a rejection go unhandled. */
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

  /** Stops the stream early once a proposal failed (leadership lost, deadline): the answer is already known. */
  throwFirstError(): void {
    if (this.#firstError !== undefined) throw this.#firstError.error;
  }
}
