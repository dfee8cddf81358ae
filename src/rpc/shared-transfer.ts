// GetPages with TRANSFER_SHARED_MEMORY and ReleasePages: the member's side of the same-host read
// path (docs/CLIENT.md has the client's). A page that sits in the shared arena is answered with
// its place (region, file offset, length) under a lease instead of its bytes; the lease
// (src/store/shared-leases.ts) keeps the slot's reference, so the slot is not reused until the
// client releases it or the lease expires, as a streamed read keeps it until grpc-js has
// serialized the bytes. Everything else is streamed as usual: the arena is not shared (or is off),
// the page is not in the arena, its bytes were converted (as_dtype), or every lease is taken.
//
// Leases end by ReleasePages, or by the ids the client's next GetPages carries
// (`release_lease_ids`): a client reading without pause then spends no round trip of its own on
// releases.
//
// The proof of being on the host is the nonce: 16 random bytes drawn at the member's start and
// written only into the arena files (mode 0600). Status publishes its SHA-256, never the nonce.
import { timingSafeEqual } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { PageLease, SharedArena, SharedLeases } from '../store/index.js';
import type { MemberContext } from './member-context.js';
import type { GetPagesRequest__Output, GetPagesResponse, PageMeta as PageMetaOut, ReleasePagesRequest__Output, ReleasePagesResponse } from '../proto/index.js';
import { drained } from './stream-drained.js';

type GetPagesCall = grpc.ServerWritableStream<GetPagesRequest__Output, GetPagesResponse>;

const EMPTY = new Uint8Array(0);

/** The shared-memory side of one GetPages call. */
export class SharedTransfer {
  readonly #leases: SharedLeases;
  readonly #clientId: string;
  readonly #arena: SharedArena;

  constructor(leases: SharedLeases, clientId: string, arena: SharedArena) {
    this.#leases = leases;
    this.#clientId = clientId;
    this.#arena = arena;
  }

  /**
   * Answers the page by its place in the arena when it can: true when it did (the lease is then
   * the registry's, not the caller's), false when the caller must stream it. `data` is what
   * would be sent: the lease's bytes or a layer range of them; converted bytes are streamed.
   * Throws KVC_TOO_MANY_LEASES when the client holds its most.
   */
  async answer(call: GetPagesCall, lease: PageLease, meta: PageMetaOut, data: Uint8Array): Promise<boolean> {
    const location = lease.location;
    if (location === undefined || data.buffer !== lease.data.buffer) return false;
    const leaseId = this.#leases.grant(this.#clientId, lease);
    if (leaseId === undefined) return false;
    const file = this.#arena.files[location.region]!;
    const offset = file.dataOffset + location.offset + (data.byteOffset - lease.data.byteOffset);
    const shared = { region: location.region, offset, length: data.byteLength, leaseId, expiresInMs: this.#leases.leaseMs };
    if (!call.write({ meta, data: EMPTY, offset: 0, last: true, shared })) await drained(call);
    return true;
  }
}

/**
 * The call's shared transfer, or undefined when its pages are to be streamed: not asked for, or
 * this member's arena is not shared. Bad input fails the call before any page: a missing or
 * wrong nonce (KVC_SHM_NOT_ON_HOST), a bad client id (KVC_INVALID_ARGUMENT), more keys than one
 * client may hold leases on (KVC_TOO_MANY_LEASES), and the lease ids it carries to release as
 * ReleasePages would refuse them (after releasing the good ones, before granting new leases).
 */
export function sharedTransferFor(ctx: MemberContext, request: GetPagesRequest__Output, keyCount: number): SharedTransfer | undefined {
  const releasing = request.releaseLeaseIds ?? [];
  if (request.transfer !== 'TRANSFER_SHARED_MEMORY') {
    if (releasing.length > 0) throw new KvcError('KVC_INVALID_ARGUMENT', { detail: 'release_lease_ids is for transfer = TRANSFER_SHARED_MEMORY only' });
    return undefined;
  }
  const arena = ctx.sharedArena(ctx.requireNode());
  const leases = ctx.sharedLeases;
  if (arena === null || leases === undefined) {
    if (releasing.length > 0) throw notSharedHere();
    return undefined;
  }
  checkNonce(arena, request.shmNonce);
  const clientId = validateClientId(request.clientId);
  if (releasing.length > 0) releaseLeases(leases, clientId, releasing);
  if (keyCount > leases.leasesPerClientMax) {
    throw new KvcError('KVC_TOO_MANY_LEASES', { detail: `${keyCount} keys in one shared-memory GetPages; at most ${leases.leasesPerClientMax}` });
  }
  return new SharedTransfer(leases, clientId, arena);
}

/** ReleasePages: ends the client's leases (see SharedLeases.release for partial failures). */
export function releasePages(ctx: MemberContext, request: ReleasePagesRequest__Output): ReleasePagesResponse {
  const arena = ctx.sharedArena(ctx.requireNode());
  const leases = ctx.sharedLeases;
  if (arena === null || leases === undefined) throw notSharedHere();
  checkNonce(arena, request.shmNonce);
  releaseLeases(leases, validateClientId(request.clientId), request.leaseIds ?? []);
  return {};
}

/** No shared arena, no leases: whatever lease ids the client names are not this member's. */
function notSharedHere(): KvcError {
  return new KvcError('KVC_SHM_NOT_ON_HOST', { detail: 'this member does not share its arena' });
}

/** Ends the client's leases `ids` (ReleasePages, or ids a GetPages carries); see SharedLeases.release. */
function releaseLeases(leases: SharedLeases, clientId: string, ids: readonly number[]): void {
  if (ids.length > LIMITS.page.keysPerRequestMax) {
    throw new KvcError('KVC_TOO_MANY_KEYS', { detail: `${ids.length} lease ids, at most ${LIMITS.page.keysPerRequestMax}` });
  }
  leases.release(clientId, ids);
}

function checkNonce(arena: SharedArena, nonce: Uint8Array | undefined): void {
  const given = nonce ?? EMPTY;
  const ok = given.byteLength === arena.nonce.byteLength && timingSafeEqual(given, arena.nonce);
  if (!ok) {
    throw new KvcError('KVC_SHM_NOT_ON_HOST', {
      detail: 'the nonce does not match this member\'s arena file (not on this host, a stale file, or the member restarted): read Status and the file again, or stream',
    });
  }
}

/** The client id as a map key; 1 to clientIdBytesMax bytes. */
function validateClientId(id: Uint8Array | undefined): string {
  const bytes = id?.byteLength ?? 0;
  if (bytes < 1 || bytes > LIMITS.sharedMemory.clientIdBytesMax) {
    throw new KvcError('KVC_INVALID_ARGUMENT', { detail: `client_id is ${bytes} bytes, expected 1 to ${LIMITS.sharedMemory.clientIdBytesMax}` });
  }
  return Buffer.from(id!.buffer, id!.byteOffset, id!.byteLength).toString('hex');
}
