// CacheService.GetPages: streams pages in order, in chunks of at most LIMITS.page.chunkBytes,
// optionally a layer range and/or converted (as_dtype). Served by any member from its applied
// state, through the memory tier: each page is read as a lease (PageStore.readPage), and the
// chunks are written straight from the lease's bytes - for a cached page, views into the pinned
// arena slot, with no intermediate copy.
//
// Why the lease is held past `write()`: grpc-js serializes a message (copying its bytes into the
// HTTP/2 frame) when the stream's `_write` runs, which for a stream with buffered messages is
// later than `write()` returns. The lease is therefore released by the write callback of the
// page's last chunk (every earlier chunk of the stream has been serialized by then), or as soon
// as the stream is over (cancelled or closed: grpc-js serializes nothing after that). A failed
// handler does not release early: grpc-js still sends the messages buffered before the error.
// A conversion or a layer slice that produces new bytes releases the lease at once.
//
// TRANSFER_SHARED_MEMORY (shared-transfer.ts): a page in the shared arena is answered with its
// place instead of chunks, and its lease passes to the member's shared-lease registry.
import type * as grpc from '@grpc/grpc-js';
import { crc32c, type Dtype, type PageMeta } from '../codec/index.js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { ClusterNode } from '../node/index.js';
import type { PageLease } from '../store/index.js';
import { convertForRead } from './dtype-convert.js';
import type { MemberContext } from './member-context.js';
import type { GetPagesRequest__Output, GetPagesResponse, PageMeta as PageMetaOut } from '../proto/index.js';
import { sharedTransferFor } from './shared-transfer.js';
import { drained } from './stream-drained.js';
import { dtypeToProto, optionalDtypeFromProto, validateKeys, validateNamespace } from './validate.js';

type GetPagesCall = grpc.ServerWritableStream<GetPagesRequest__Output, GetPagesResponse>;

interface LayerRange {
  begin: number;
  end: number;
}

export async function getPages(ctx: MemberContext, call: GetPagesCall): Promise<void> {
  const request = call.request;
  const ns = validateNamespace(request.namespace);
  const keys = validateKeys(request.keys);
  const asDtype = optionalDtypeFromProto(request.asDtype, 'as_dtype');
  const range = layerRange(request.layerBegin, request.layerEnd);
  const node = ctx.requireNode();
  const shared = sharedTransferFor(ctx, request, keys.length);
  // DESIGN §6 (a corrupt copy is never served): a client that checks each page it copies from
  // the arena (client_verifies) makes that check itself, on the bytes it uses, so whole pages it
  // gets the place of are not read here first. A layer range's place comes with a crc32c the
  // member computes from the arena's bytes, so those are checked here as always.
  const readerChecks = shared !== undefined && request.clientVerifies && range === undefined && asDtype === undefined;
  const leases = new StreamLeases(call);
  for (const key of keys) {
    if (call.cancelled) return;
    let lease = await readLease(node, ctx, ns, key, !readerChecks);
    leases.hold(lease);
    let payload: { meta: PageMetaOut; data: Uint8Array };
    try {
      payload = payloadToSend(lease.meta, lease.data, range, asDtype);
    } catch (error) {
      leases.done(lease);
      throw error;
    }
    if (shared !== undefined && leases.handOver(lease)) {
      let answered: boolean;
      try {
        answered = await shared.answer(call, lease, payload.meta, payload.data);
      } catch (error) {
        lease.release();
        throw error;
      }
      if (answered) {
        ctx.transferred('out', payload.data.byteLength);
        continue;
      }
      leases.hold(lease);
      if (!lease.checked) {
        // Streamed after all (every lease was taken): bytes this member sends are checked first.
        leases.done(lease);
        // The same read again, checked this time: its access is already noted.
        lease = await readLease(node, ctx, ns, key, true, true);
        leases.hold(lease);
        payload = payloadToSend(lease.meta, lease.data, range, asDtype);
      }
    }
    // Converted bytes are a new buffer: the page's own bytes are no longer needed.
    if (payload.data.buffer !== lease.data.buffer) leases.done(lease);
    const sent = lease;
    await writeChunks(call, payload.meta, payload.data, () => leases.done(sent));
    ctx.transferred('out', payload.data.byteLength);
  }
}

/** A lease on the page (PageStore.readPage); KVC_NOT_FOUND when this member does not have it. */
async function readLease(node: ClusterNode, ctx: MemberContext, ns: string, key: Uint8Array, checkHit: boolean, repeat = false): Promise<PageLease> {
  const lease = await node.readPage(ns, key, checkHit, repeat).catch((error: unknown) => {
    // A damaged copy is refused here (never served) and repaired from a peer behind the answer.
    if (error instanceof KvcError && error.code === 'KVC_CHECKSUM_MISMATCH') ctx.onDamagedPage(ns, key);
    throw error;
  });
  if (lease === undefined) {
    throw new KvcError('KVC_NOT_FOUND', { detail: `page ${Buffer.from(key).toString('hex')} in namespace ${ns}` });
  }
  return lease;
}

/**
 * The leases of one stream: each released once its last chunk was serialized, all released
 * when the stream is over. Release is idempotent, so the two paths may both run.
 */
class StreamLeases {
  readonly #held = new Set<PageLease>();
  #over = false;

  constructor(call: GetPagesCall) {
    const over = (): void => {
      this.#over = true;
      for (const lease of this.#held) lease.release();
      this.#held.clear();
    };
    call.once('cancelled', over);
    call.once('close', over);
  }

  hold(lease: PageLease): void {
    if (this.#over) lease.release();
    else this.#held.add(lease);
  }

  done(lease: PageLease): void {
    this.#held.delete(lease);
    lease.release();
  }

  /** Stops tracking `lease` without releasing it; false when the stream is over (it was released). */
  handOver(lease: PageLease): boolean {
    return this.#held.delete(lease);
  }
}

/** Both 0 = the whole page; otherwise [begin, end) must be a non-empty range (checked against each page's shape later). */
export function layerRange(begin: number, end: number): LayerRange | undefined {
  if (begin === 0 && end === 0) return undefined;
  if (end <= begin) throw new KvcError('KVC_SHAPE_MISMATCH', { detail: `layer range [${begin}, ${end}) is empty` });
  return { begin, end };
}

/**
 * The page as it will travel: sliced to the layer range (layer-major layout makes it one
 * contiguous byte range, a view of the same bytes), then converted (new bytes). The returned meta
 * describes these bytes (dtype, shape, bytes and crc32c as they travel, cache.proto), so the
 * client can check what it receives.
 */
export function payloadToSend(stored: PageMeta, data: Uint8Array, range: LayerRange | undefined, asDtype: Dtype | undefined): { meta: PageMetaOut; data: Uint8Array } {
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

/**
 * Streams one page in chunks of at most LIMITS.page.chunkBytes (views of `data`, not copies),
 * waiting whenever the stream is full. `serialized` runs once the last chunk's bytes have been
 * taken by grpc-js (its write callback), or at once when no chunk was written.
 */
export async function writeChunks(call: GetPagesCall, meta: PageMetaOut, data: Uint8Array, serialized: () => void = () => undefined): Promise<void> {
  const chunkBytes = LIMITS.page.chunkBytes;
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    if (call.cancelled) break;
    const end = Math.min(offset + chunkBytes, data.byteLength);
    const last = end === data.byteLength;
    const message: GetPagesResponse = { meta: offset === 0 ? meta : null, data: data.subarray(offset, end), offset, last };
    // The callback also runs (with an error) when the stream was destroyed before the write.
    const more = last ? call.write(message, () => serialized()) : call.write(message);
    if (!more) await drained(call);
    if (last) return;
  }
  serialized();
}
