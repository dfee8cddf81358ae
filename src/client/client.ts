// KvcClient: what an inference worker embeds to use a kvcache cluster. It starts from any member
// address and finds the leader from `kvcache-leader` trailers; writes and admin changes go to the
// leader, reads rotate over every known member (pages are immutable, so any replica that has a
// page serves the same bytes, and a lagging one can only under-report a Lookup). Every attempt
// has a deadline; failed attempts are retried by the rules in retry.ts. Pages travel in chunks of
// at most 1 MiB and are checked on arrival (pages.ts).

import * as grpc from '@grpc/grpc-js';
import type { Dtype } from '../bytes/index.js';
import { isValidKeyBytes, isValidNamespace, LIMITS } from '../limits.js';
import { CLIENT_ERROR_CODES, KvcClientError, localError, toClientError } from './client-error.js';
import { EndpointPool, ENDPOINTS_MAX } from './endpoint-pool.js';
import { LookupBatcher, type LookupBatch } from './lookup-batcher.js';
import { encodeLookupBatch } from './lookup-request.js';
import { encodePutPagesRequest } from './put-request.js';
import { PutLanes } from './put-lane.js';
import { clientStreamCall, serverStream, unaryCall } from './calls.js';
import { PageAssembler, pageMessages, pagesInOrder, putMeta, sameBytes, toWireDtype } from './pages.js';
import type { Page, PageDestination, PageInput, PageMetaOut, PutMeta, SharedCopy } from './pages.js';
import { COPIES_AHEAD_MAX, copySharedPage, SharedMemoryReads, type MemberArena } from './shared-memory.js';
import { SharedLookups } from './shared-lookup.js';
import { clientRpcs, encodePageMeta, type Rpc } from './protos.js';
import { addTraceContext } from './trace-context.js';
import { watchEvents, type WatchEvent, type WatchOptions } from './watch.js';
// The generated message types (src/proto): a request as the client writes it, a response as it
// arrives (`__Output`).
import type {
  ClusterSettings__Output as ClusterSettingsMessage,
  GetPagesRequest,
  GetPagesResponse__Output as GetPagesResponse,
  ListPagesResponse__Output as ListPagesResponse,
  ListRemovalsResponse__Output as ListRemovalsResponse,
  LookupResponse__Output,
  NamespaceStatus__Output as NamespaceStatusMessage,
  ProfileChunk__Output as ProfileChunk,
  PutPagesRequest,
  PutPagesResponse__Output as PutPagesResponse,
  StatusResponse__Output as StatusResponse,
} from '../proto/index.js';
import { installFramedSend } from '../proto/index.js';
import { backoffMs, decide, isRefusal, leaderPollMs, sleep, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, DEFAULT_LEADER_WAIT_MS, DEFAULT_RETRIES } from './retry.js';
import type { Decision, RetryPolicy } from './retry.js';

/** Deadline of one attempt (one RPC) unless the options say otherwise. */
export const DEFAULT_DEADLINE_MS = 10_000;

/**
 * Most page bytes in one PutPages stream: a larger batch is sent as several streams, so that a
 * retry resends at most this much and one attempt's deadline stays meaningful.
 */
export const PUT_STREAM_BYTES_MAX = 256 * 1024 * 1024;

/**
 * Lookup calls in flight at once unless the options say otherwise; concurrent lookups beyond
 * them wait and go out together in one call (lookup-batcher.ts).
 */
export const DEFAULT_LOOKUP_CALLS_MAX = 2;
/** Most prompts one batched Lookup call carries (their keys also count against keysPerRequestMax). */
export const LOOKUP_PROMPTS_PER_CALL_MAX = 512;

/** Most removals one ListRemovals answer holds (admin.proto: a larger limit is cut to this). */
export const REMOVALS_PER_CALL_MAX = LIMITS.eviction.removalsPerCallMax;
/** Removals asked for per call by listAllRemovals unless told otherwise. */
export const DEFAULT_REMOVALS_PAGE = 1_000;

export interface ClientOptions {
  /** Any members' host:port; more are learned from redirects and Status answers. */
  endpoints: string[];
  /** Deadline of each attempt in ms (default 10 s). */
  deadlineMs?: number;
  /** Attempts after the first (default 5). */
  retries?: number;
  /**
   * Sent as `authorization: Bearer <token>` on every call (CacheService and AdminService), for
   * members that configure tokens (docs/CLIENT.md "TLS and tokens").
   */
  token?: string;
  /** Sent instead of `token` on AdminService calls (the older admin token, or a separate admin-scope token). */
  adminToken?: string;
  /**
   * Dial members over TLS: `ca` is the PEM of the cluster CA that members' certificates chain
   * to; `cert` and `key` (PEM) a client certificate, for members that ask for one. Unset: plaintext.
   */
  tls?: ClientTls;
  /** First backoff step in ms (default 100), doubled per retry up to backoffMaxMs (default 2000). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * How long a write refused for want of a leader (an election is under way) keeps asking, every
   * 20-40 ms and without spending `retries` (default 3000; 0: such refusals are ordinary retries).
   */
  leaderWaitMs?: number;
  /** Check each received page against its crc32c (default true; always on for shared memory). */
  verifyChecksums?: boolean;
  /**
   * Lookup calls in flight at once (default 2); lookups of concurrent callers beyond them are sent
   * together in the next call. 1 batches the most; a large value sends one call per lookup.
   */
  lookupCallsMax?: number;
  /** HTTP/2 connections to each member (default 1; docs/CLIENT.md has what more of them measured). */
  connectionsPerMember?: number;
  /** gRPC channel options laid over CLIENT_CHANNEL_OPTIONS (e.g. 'grpc-node.flow_control_window'). */
  channelOptions?: grpc.ChannelOptions;
  /**
   * How getPages receives page bytes unless its options say otherwise (default 'grpc'):
   * 'shared-memory' copies them from the member's shared arena when the member is on this host
   * and shares it, and streams them otherwise (docs/CLIENT.md "Same-host shared memory").
   */
  transfer?: Transfer;
  /**
   * Where lookup() answers from (default 'grpc'): 'shared-memory' reads the page index a member on
   * this host keeps in shared memory, with no call, for lookups that are neither linearizable nor
   * leased nor aimed at an endpoint; the others, and every lookup while no member's index can be
   * read, go over gRPC (docs/CLIENT.md "Same-host lookups").
   */
  lookupVia?: Transfer;
  /**
   * How putPages reaches a member (default 'lane', unless KVC_PUT_LANE=off in the environment):
   * 'lane' over a TCP connection of its own on the member port (TLS with `tls`), with the same
   * messages, answers and errors as gRPC and less CPU per byte on both ends; 'grpc' over a
   * PutPages stream. Puts to a member that does not take the lane go over gRPC (docs/CLIENT.md
   * "The put lane").
   */
  putVia?: PutVia;
}

/** How putPages sends: the put lane or a gRPC stream. */
export type PutVia = 'lane' | 'grpc';

export interface ClientTls {
  ca: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** How page bytes travel on a get: the gRPC stream, or the same host's shared memory. */
export type Transfer = 'grpc' | 'shared-memory';

export interface GetPagesOptions {
  /** Return payloads in this dtype (fp32 from a stored fp16). */
  asDtype?: Dtype;
  /** Layer range [layerBegin, layerEnd) of shape[0]; both absent = the whole page. */
  layerBegin?: number;
  layerEnd?: number;
  /** Read from this member only: no failover to others. */
  endpoint?: string;
  /** Deadline of each stream attempt in ms (default: the client's). */
  deadlineMs?: number;
  /** A missing page ends the result early instead of throwing KVC_NOT_FOUND. */
  allowPartial?: boolean;
  /** Overrides the client's `transfer` for this call. */
  transfer?: Transfer;
}

export interface PutOutcome {
  key: Uint8Array;
  /** Empty when stored (or already present with the same crc32c); otherwise a KVC_* code. */
  code: string;
  message: string;
}

/**
 * Status of one member: StatusResponse's fields, camelCase, the capacity figures included
 * (evictedPages, evictedBytes, expiredPages, settings, namespaces).
 */
export type MemberStatus = StatusResponse;

/**
 * The replicated capacity settings (admin.proto ClusterSettings), camelCase. `replicated` is false
 * until the first leader replicated its config file's values (built-in defaults apply meanwhile).
 */
export type ClusterSettings = ClusterSettingsMessage;

/** One namespace's figures as one member sees them (admin.proto NamespaceStatus). */
export type NamespaceStatus = NamespaceStatusMessage;

export interface LookupOptions {
  /** Confirm with the leader first (one round trip), so the answer is not older than the call. */
  linearizable?: boolean;
  /** Ask this member only: no failover to others. */
  endpoint?: string;
  /**
   * Protect the matched pages from eviction for this many ms (0 = no lease), e.g. until the
   * worker has fetched them. The server caps it (LIMITS.eviction.leaseMsMax, KVC_INVALID_ARGUMENT).
   */
  leaseMs?: number;
}

export interface NamespaceList {
  /** Sorted by name. Lookup counters are those of the member that answered. */
  namespaces: NamespaceStatus[];
  appliedIndex: number;
  /** The member that answered. */
  endpoint: string;
}

/** One removed page (or a whole dropped namespace) in the replicated removal record. */
export interface Removal {
  /** Log index of the entry that removed it; one entry may remove many pages. */
  index: number;
  namespace: string;
  /** Empty for a dropped namespace (every page of it). */
  key: Uint8Array;
  /** "evicted", "expired", "deleted" or "namespace-dropped" (a newer server may add others). */
  reason: string;
}

export interface RemovalList {
  /** Oldest first. */
  removals: Removal[];
  /** The oldest index the record still holds (0 when empty): older removals were trimmed. */
  oldestIndex: number;
  appliedIndex: number;
  /** More removals follow the last one returned. */
  more: boolean;
  /** The member that answered. */
  endpoint: string;
}

export interface ListRemovalsOptions {
  /** First log index to return (0 = the oldest kept). */
  fromIndex?: number;
  /** Most removals to return (0 = the server's maximum, REMOVALS_PER_CALL_MAX). */
  limit?: number;
  /** Ask this member only: no failover to others. */
  endpoint?: string;
}

/** One stored page as ListPages returns it. */
export interface ListedPage {
  namespace: string;
  key: Uint8Array;
  /** Empty for a first block. */
  parentKey: Uint8Array;
  bytes: number;
  tokens: number;
}

export interface PageListing {
  /** In (namespace, key) byte order. */
  pages: ListedPage[];
  /** The member's applied index when it took this part of the listing. */
  appliedIndex: number;
  /** Pass back for the next part; '' on the last. */
  nextPageToken: string;
  /** Watch from here to keep the listing exact: the first part's applied index + 1. */
  watchFromIndex: number;
  /** The member that answered. */
  endpoint: string;
}

export interface ListPagesOptions {
  /** Default: every namespace. */
  namespace?: string;
  pageToken?: string;
  /** Most pages in the answer (the server caps it at 1000). */
  limit?: number;
  /** Ask this member only: no failover to others. */
  endpoint?: string;
}

export interface ClusterStatus {
  /** Id of the member that reports itself leader in the highest term; 0 when none does. */
  leader: number;
  /** One status per member that answered, by id. */
  members: MemberStatus[];
  /** Addresses that did not answer, with why. */
  unreachable: { address: string; code: string; message: string }[];
}

type Target = 'leader' | 'replica' | { endpoint: string };

/** What one call (all its attempts) has learned. */
interface CallState {
  /** Members that answered KVC_UNAVAILABLE (no connection, or it broke). */
  unreachable: Set<string>;
  /** When the first refusal for want of a leader came (the election wait starts there). */
  electionSinceMs?: number;
}

interface CallSpec {
  target: Target;
  /** Whether repeating the request after an ambiguous failure is harmless (retry.ts). */
  idempotent: boolean;
}

export class KvcClient {
  readonly #pool: EndpointPool;
  readonly #policy: RetryPolicy;
  readonly #deadlineMs: number;
  /** Aborted by close(): ends the watches this client serves (watch.ts). */
  readonly #closing = new AbortController();
  readonly #adminToken: string | undefined;
  readonly #token: string | undefined;
  readonly #verifyChecksums: boolean;
  readonly #transfer: Transfer;
  readonly #rpcs = clientRpcs();
  readonly #lookups: LookupBatcher;
  /** Lookup with a batch of prompts as the request, written by hand (lookup-request.ts). */
  readonly #lookupBatchRpc: Rpc<LookupBatch, LookupResponse__Output> = { ...this.#rpcs.lookup, serialize: encodeLookupBatch };
  /** PutPages with its requests encoded by hand into buffers grpc-js sends as they are (put-request.ts). */
  readonly #putPagesRpc: Rpc<PutPagesRequest, PutPagesResponse> = { ...this.#rpcs.putPages, serialize: (message) => encodePutPagesRequest(message, encodePageMeta) };
  readonly #shm = new SharedMemoryReads(
    (endpoint) => this.status(endpoint),
    (endpoint, arena, ids) => this.#releaseLeases(endpoint, arena, ids),
  );
  /** Same-host lookups (lookupVia 'shared-memory'); matched keys reported as accessed through the batcher. */
  readonly #sharedLookups: SharedLookups | undefined;
  #sharedCopiesRefused = 0;
  #sharedCopies = 0;
  /** Put lanes to plaintext members (put-lane.ts); undefined when every put goes over gRPC. */
  readonly #putLanes: PutLanes | undefined;
  /** PutPages attempts made over the put lane and over gRPC (tests, bench, operators' curiosity). */
  readonly putAttempts = { lane: 0, grpc: 0 };

  constructor(o: ClientOptions) {
    // PutPages messages (put-request.ts) go out framed where they were encoded, not copied again
    // (where this grpc-js allows it; otherwise grpc-js copies them as it always did).
    installFramedSend();
    this.#pool = new EndpointPool(o.endpoints, {
      ...(o.connectionsPerMember === undefined ? {} : { connectionsPerMember: o.connectionsPerMember }),
      ...(o.channelOptions === undefined ? {} : { channelOptions: o.channelOptions }),
      ...(o.tls === undefined ? {} : { credentials: tlsCredentials(o.tls) }),
    });
    this.#policy = {
      retries: nonNegativeInteger(o.retries ?? DEFAULT_RETRIES, 'retries'),
      backoffBaseMs: nonNegativeInteger(o.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS, 'backoffBaseMs'),
      backoffMaxMs: nonNegativeInteger(o.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS, 'backoffMaxMs'),
      leaderWaitMs: nonNegativeInteger(o.leaderWaitMs ?? DEFAULT_LEADER_WAIT_MS, 'leaderWaitMs'),
    };
    this.#deadlineMs = positiveInteger(o.deadlineMs ?? DEFAULT_DEADLINE_MS, 'deadlineMs');
    this.#adminToken = o.adminToken ?? o.token;
    this.#token = o.token;
    this.#verifyChecksums = o.verifyChecksums ?? true;
    this.#lookups = new LookupBatcher((batch) => this.#sendLookups(batch), {
      callsMax: positiveInteger(o.lookupCallsMax ?? DEFAULT_LOOKUP_CALLS_MAX, 'lookupCallsMax'),
      keysMax: LIMITS.page.keysPerRequestMax,
      promptsMax: LOOKUP_PROMPTS_PER_CALL_MAX,
    });
    this.#transfer = checkTransfer(o.transfer ?? 'grpc');
    const putVia = o.putVia ?? (process.env.KVC_PUT_LANE === 'off' ? 'grpc' : 'lane');
    if (putVia !== 'lane' && putVia !== 'grpc') throw new TypeError(`putVia must be 'lane' or 'grpc', not ${JSON.stringify(putVia)}`);
    // A TLS client's lanes are TLS too, checked as its channels are.
    this.#putLanes = putVia === 'lane' ? new PutLanes((message) => encodePutPagesRequest(message, encodePageMeta), this.#rpcs.putPages.deserialize, o.tls) : undefined;
    this.#sharedLookups =
      checkTransfer(o.lookupVia ?? 'grpc', 'lookupVia') === 'shared-memory'
        ? new SharedLookups(() => this.endpoints(), (endpoint) => this.status(endpoint), (ns, keys) => this.#lookups.lookup(ns, keys, false, 0))
        : undefined;
  }

  /** Every member address the client knows, in the order it learned them. */
  endpoints(): readonly string[] {
    return this.#pool.known();
  }

  /** Where the client believes the leader is (undefined until a redirect or a write told it). */
  get leader(): string | undefined {
    return this.#pool.leader;
  }

  /**
   * How many leading `keys` are cached: the longest cached prefix, in pages. A lease only extends
   * the matched pages' protection, so a lookup with one stays idempotent.
   */
  async lookup(ns: string, keys: Uint8Array[], o: LookupOptions = {}): Promise<number> {
    const leaseMs = nonNegativeInteger(o.leaseMs ?? 0, 'leaseMs');
    // A namespace or key the members refuse goes over gRPC too, for the member's KVC_INVALID_* code.
    if (this.#sharedLookups !== undefined && o.endpoint === undefined && o.linearizable !== true && leaseMs === 0 && isValidNamespace(ns) && keys.every((key) => isValidKeyBytes(key.byteLength))) {
      const matched = this.#sharedLookups.match(ns, keys);
      if (matched !== undefined) return matched;
    }
    // One request's worth, from any member: may travel with other callers' lookups.
    if (o.endpoint === undefined && keys.length <= LIMITS.page.keysPerRequestMax) return this.#lookups.lookup(ns, keys, o.linearizable === true, leaseMs);
    let matched = 0;
    for (const batch of batches(keys, LIMITS.page.keysPerRequestMax)) {
      const request = { namespace: ns, keys: batch, linearizable: o.linearizable === true, leaseMs };
      const response = await this.#withRetry({ target: readTarget(o.endpoint), idempotent: true }, async (endpoint) => {
        const answer = await unaryCall(this.#pool.client(endpoint), this.#rpcs.lookup, request, this.#cacheMetadata(), this.#deadlineMs);
        if (!(answer.matched >= 0 && answer.matched <= batch.length)) {
          throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, `Lookup matched ${answer.matched} of ${batch.length} keys`, endpoint);
        }
        return answer;
      });
      matched += response.matched;
      if (response.matched < batch.length) break;
    }
    return matched;
  }

  /** One Lookup call for a batch of prompts (lookup-batcher.ts), retried like any read; the request is encoded by hand (lookup-request.ts). */
  #sendLookups(batch: LookupBatch): Promise<number[]> {
    const prompts = batch.prompts.length;
    return this.#withRetry({ target: 'replica', idempotent: true }, async (endpoint) => {
      const answer = await unaryCall(this.#pool.client(endpoint), this.#lookupBatchRpc, batch, this.#cacheMetadata(), this.#deadlineMs);
      const more = answer.moreMatched;
      if (1 + (prompts > 1 ? more.length : 0) !== prompts) {
        throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, `Lookup answered ${1 + more.length} of ${prompts} prompts`, endpoint);
      }
      const matched = new Array<number>(prompts);
      for (let i = 0; i < prompts; i++) {
        const count = i === 0 ? answer.matched : more[i - 1]!;
        if (!(count >= 0 && count <= batch.prompts[i]!.length)) {
          throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, `Lookup matched ${count} of ${batch.prompts[i]!.length} keys`, endpoint);
        }
        matched[i] = count;
      }
      return matched;
    });
  }

  /**
   * Streams the pages of `keys` in order, each whole and verified. A key no member has ends the
   * iteration with KVC_NOT_FOUND (after the pages before it), or quietly with `allowPartial`.
   */
  async *getPages(ns: string, keys: Uint8Array[], o: GetPagesOptions = {}): AsyncGenerator<Page, void, undefined> {
    for (const batch of batches(keys, LIMITS.page.keysPerRequestMax)) {
      const complete = yield* this.#getBatch(ns, batch, o, () => undefined);
      if (!complete) return;
    }
  }

  /**
   * Like getPages, but writes the payloads back to back into `target` (no per-page buffers) and
   * returns their metadata and the bytes written. Throws RangeError if `target` is too small.
   */
  async getPagesInto(ns: string, keys: Uint8Array[], target: Uint8Array, o: GetPagesOptions = {}): Promise<{ pages: PageMetaOut[]; bytes: number }> {
    let offset = 0;
    const destination: PageDestination = (meta, index) => {
      if (offset + meta.bytes > target.byteLength) {
        throw new RangeError(`target has ${target.byteLength} bytes; page ${index} needs ${offset + meta.bytes}`);
      }
      return target.subarray(offset, offset + meta.bytes);
    };
    const pages: PageMetaOut[] = [];
    for (const batch of batches(keys, LIMITS.page.keysPerRequestMax)) {
      const stream = this.#getBatch(ns, batch, o, destination);
      let step = await stream.next();
      for (; step.done !== true; step = await stream.next()) {
        pages.push(step.value.meta);
        offset += step.value.meta.bytes;
      }
      if (!step.value) break;
    }
    return { pages, bytes: offset };
  }

  /**
   * The cluster's page-set changes in log order (stored, removed, namespace_dropped, and progress
   * events), resuming across member failures; see watch.ts and docs/CLIENT.md "Watching the
   * cache". Break out of the loop (or abort `signal`) to stop.
   */
  watch(o: WatchOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    return watchEvents({ pool: this.#pool, rpc: this.#rpcs.watch, policy: this.#policy, metadata: () => this.#cacheMetadata(), closed: this.#closing.signal }, o);
  }

  /** One part of the page listing (ListPages); pass `nextPageToken` back for the next. */
  async listPages(o: ListPagesOptions = {}): Promise<PageListing> {
    const request = { namespace: o.namespace ?? '', pageToken: o.pageToken ?? '', limit: o.limit ?? 0 };
    const { response, answeredBy } = await this.#callAt(readTarget(o.endpoint), true, this.#rpcs.listPages, request);
    return toPageListing(response, answeredBy);
  }

  /**
   * The whole page set, every part from one member, and where to watch from to keep it exact:
   * apply the events from `watchFromIndex` on to `pages`, in order (stored adds or replaces,
   * removed and namespace_dropped remove).
   */
  async listAllPages(o: { namespace?: string; endpoint?: string } = {}): Promise<{ pages: ListedPage[]; watchFromIndex: number; endpoint: string }> {
    let part = await this.listPages(o);
    const pages = [...part.pages];
    while (part.nextPageToken !== '') {
      part = await this.listPages({ ...o, endpoint: part.endpoint, pageToken: part.nextPageToken });
      pages.push(...part.pages);
    }
    return { pages, watchFromIndex: part.watchFromIndex, endpoint: part.endpoint };
  }

  /**
   * Stores pages (computing each page's byte count and crc32c) and returns one outcome per page,
   * in order. Puts are idempotent, so a batch is resent whole after an ambiguous failure. Pages'
   * data is sent from where it is, not copied (docs/CLIENT.md): it must not change until this settles.
   */
  async putPages(pages: PageInput[], o: { deadlineMs?: number } = {}): Promise<PutOutcome[]> {
    // The checksum is computed once here, not per attempt.
    const prepared = pages.map((page) => ({ meta: putMeta(page), data: page.data }));
    const outcomes: PutOutcome[] = [];
    for (const batch of putBatches(prepared)) {
      const messages: Iterable<PutPagesRequest> = { [Symbol.iterator]: () => batchMessages(batch) };
      const results = await this.#withRetry({ target: 'leader', idempotent: true }, async (endpoint) => {
        const deadlineMs = o.deadlineMs ?? this.#deadlineMs;
        const lane = this.#putLanes?.ready(endpoint);
        this.putAttempts[lane !== undefined ? 'lane' : 'grpc']++;
        const response =
          lane !== undefined
            ? await lane.call(messages, this.#cacheMetadata(), deadlineMs)
            : await clientStreamCall(this.#pool.client(endpoint), this.#putPagesRpc, messages, this.#cacheMetadata(), deadlineMs);
        return checkPutResults(response, batch, endpoint);
      });
      outcomes.push(...results);
    }
    return outcomes;
  }

  async deletePages(ns: string, keys: Uint8Array[]): Promise<void> {
    for (const batch of batches(keys, LIMITS.page.keysPerRequestMax)) {
      await this.#call('leader', true, this.#rpcs.deletePages, { namespace: ns, keys: batch });
    }
  }

  /** Protects pages from eviction for `ttlMs` (at most one hour), e.g. while a worker loads them. */
  async pinPages(ns: string, keys: Uint8Array[], ttlMs: number): Promise<void> {
    for (const batch of batches(keys, LIMITS.page.keysPerRequestMax)) {
      await this.#call('leader', true, this.#rpcs.pinPages, { namespace: ns, keys: batch, ttlMs });
    }
  }

  async unpinPages(ns: string, keys: Uint8Array[]): Promise<void> {
    for (const batch of batches(keys, LIMITS.page.keysPerRequestMax)) {
      await this.#call('leader', true, this.#rpcs.unpinPages, { namespace: ns, keys: batch });
    }
  }

  /**
   * One member's status: `endpoint`'s, or any member's. Learns the member addresses it lists.
   * `includeDigest` asks for the state digest too, which reads the member's whole store.
   */
  async status(endpoint?: string, options: { includeDigest?: boolean } = {}): Promise<MemberStatus> {
    const request = options.includeDigest === true ? { includeDigest: true } : {};
    const answer = await this.#call(readTarget(endpoint), true, this.#rpcs.status, request, this.#adminMetadata());
    this.#learn(answer);
    return answer;
  }

  /**
   * Asks every known member, and every member they list, for its status (with its state digest
   * when `includeDigest` is set; see status()).
   */
  async clusterStatus(options: { includeDigest?: boolean } = {}): Promise<ClusterStatus> {
    const byId = new Map<number, MemberStatus>();
    const unreachable: ClusterStatus['unreachable'] = [];
    const asked = new Set<string>();
    let frontier = [...this.#pool.known()];
    while (frontier.length > 0 && asked.size < ENDPOINTS_MAX) {
      frontier.forEach((address) => asked.add(address));
      const answers = await Promise.allSettled(frontier.map((address) => this.status(address, options)));
      answers.forEach((answer, i) => {
        if (answer.status === 'fulfilled') return void byId.set(answer.value.id, answer.value);
        const error = toClientError(answer.reason, frontier[i]!);
        unreachable.push({ address: frontier[i]!, code: error.code, message: error.message });
      });
      frontier = this.#pool.known().filter((address) => !asked.has(address));
    }
    const members = [...byId.values()].sort((a, b) => a.id - b.id);
    const leaders = members.filter((m) => m.role === 'leader').sort((a, b) => b.term - a.term);
    return { leader: leaders[0]?.id ?? 0, members, unreachable };
  }

  /** Adds a member (as a learner to catch up first; promote with learner = false). */
  async addMember(id: number, address: string, learner = false): Promise<void> {
    await this.#call('leader', false, this.#rpcs.addMember, { id, address, learner }, this.#adminMetadata());
    this.#pool.add(address);
  }

  async removeMember(id: number): Promise<void> {
    await this.#call('leader', false, this.#rpcs.removeMember, { id }, this.#adminMetadata());
    // The removed member may have been the leader; rediscover on the next write.
    this.#pool.setLeader(undefined);
  }

  /** Asks the leader to hand leadership to `id`; returns the leader id it reports afterwards. */
  async transferLeader(id: number): Promise<number> {
    const response = await this.#call('leader', false, this.#rpcs.transferLeader, { targetId: id }, this.#adminMetadata());
    this.#pool.setLeader(undefined);
    return response.leaderId;
  }

  /** Forces a log compaction on the leader, or on `endpoint`; returns its WAL first index after. */
  async snapshot(endpoint?: string): Promise<number> {
    const target: Target = endpoint === undefined ? 'leader' : { endpoint };
    return (await this.#call(target, true, this.#rpcs.snapshot, {}, this.#adminMetadata())).walFirstIndex;
  }

  /**
   * A CPU profile of the member at `endpoint`, taken for `seconds` (1 to 60): the JSON of a
   * .cpuprofile (Chrome DevTools opens it). KVC_BUSY while that member is taking another one.
   */
  async profile(endpoint: string, seconds: number): Promise<Uint8Array> {
    const deadlineMs = seconds * 1000 + this.#deadlineMs;
    const call = serverStream(this.#pool.client(endpoint), this.#rpcs.profile, { seconds }, this.#adminMetadata(), deadlineMs);
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of call as AsyncIterable<ProfileChunk>) chunks.push(chunk.data);
    } catch (error) {
      throw toClientError(error, endpoint);
    }
    return Buffer.concat(chunks);
  }

  async dropNamespace(ns: string): Promise<void> {
    await this.#call('leader', true, this.#rpcs.dropNamespace, { namespace: ns }, this.#adminMetadata());
  }

  /** A member's effective configuration and limits (parsed from the JSON it sends). */
  async getConfig(endpoint?: string): Promise<unknown> {
    const response = await this.#call(readTarget(endpoint), true, this.#rpcs.getConfig, {}, this.#adminMetadata());
    return JSON.parse(response.json) as unknown;
  }

  /** A member's replicated capacity settings (GetConfig's `settings`): `endpoint`'s, or any member's. */
  async getSettings(endpoint?: string): Promise<ClusterSettings> {
    const { response, answeredBy } = await this.#callAt(readTarget(endpoint), true, this.#rpcs.getConfig, {}, this.#adminMetadata());
    return requireSettings(response.settings, 'GetConfig', answeredBy);
  }

  /**
   * Changes one replicated setting (budgetBytes, highWatermark, lowWatermark, evictionGraceMs,
   * defaultTtlMs) on the leader and returns the settings once it applied the change. The value is
   * sent as text and checked by the server (sizes such as "64MiB" are accepted); a bad key or value
   * is KVC_INVALID_CONFIG and changes nothing. Setting a value twice is harmless, so the call is
   * retried like any idempotent write.
   */
  async setConfig(key: string, value: string): Promise<ClusterSettings> {
    const request = { key, value };
    const { response, answeredBy } = await this.#callAt('leader', true, this.#rpcs.setConfig, request, this.#adminMetadata());
    return requireSettings(response.settings, 'SetConfig', answeredBy);
  }

  /** Changes one replicated setting of a namespace (quotaBytes, defaultTtlMs); as setConfig. */
  async setNamespaceConfig(ns: string, key: string, value: string): Promise<void> {
    await this.#call('leader', true, this.#rpcs.setNamespaceConfig, { namespace: ns, key, value }, this.#adminMetadata());
  }

  /** Every namespace with its figures, as `endpoint` (or any member) sees them. */
  async listNamespaces(endpoint?: string): Promise<NamespaceList> {
    const { response, answeredBy } = await this.#callAt(readTarget(endpoint), true, this.#rpcs.listNamespaces, {}, this.#adminMetadata());
    return { namespaces: response.namespaces, appliedIndex: response.appliedIndex, endpoint: answeredBy };
  }

  /** One page of the replicated removal record, oldest first, from `endpoint` or any member. */
  async listRemovals(o: ListRemovalsOptions = {}): Promise<RemovalList> {
    const request = { fromIndex: nonNegativeInteger(o.fromIndex ?? 0, 'fromIndex'), limit: nonNegativeInteger(o.limit ?? 0, 'limit') };
    const { response, answeredBy } = await this.#callAt(readTarget(o.endpoint), true, this.#rpcs.listRemovals, request, this.#adminMetadata());
    return toRemovalList(response, answeredBy);
  }

  /**
   * The whole removal record from `fromIndex` on, read page by page (`pageLimit` removals each)
   * from one member: the first that answers, or `endpoint`. Later pages are not failed over, since
   * another member's record may be cut at another index. If the answer's `oldestIndex` is above
   * the index asked for, the record was trimmed past it and older removals are missing.
   */
  async listAllRemovals(o: { fromIndex?: number; endpoint?: string; pageLimit?: number } = {}): Promise<RemovalList> {
    const pageLimit = positiveInteger(Math.min(o.pageLimit ?? DEFAULT_REMOVALS_PAGE, REMOVALS_PER_CALL_MAX), 'pageLimit');
    let page = await this.listRemovals({ fromIndex: o.fromIndex ?? 0, limit: pageLimit, ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }) });
    const removals = [...page.removals];
    while (page.more) {
      const last = removals.at(-1);
      if (last === undefined) throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, 'ListRemovals said more follow but returned none', page.endpoint);
      // One log entry may remove many pages: resume at its index and skip the ones already taken.
      const taken = removals.length - removals.findIndex((r) => r.index === last.index);
      const limit = Math.min(pageLimit + taken, REMOVALS_PER_CALL_MAX);
      page = await this.listRemovals({ fromIndex: last.index, limit, endpoint: page.endpoint });
      const fresh = page.removals.filter((r, i) => !(r.index === last.index && i < taken));
      if (fresh.length === 0 && page.more) {
        throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, `ListRemovals made no progress past index ${last.index}`, page.endpoint);
      }
      removals.push(...fresh);
    }
    return { ...page, removals };
  }

  /** How many lookups the same-host index answered, and how many went over gRPC instead (undefined: lookupVia 'grpc'). */
  get sharedLookupCounters(): { answered: number; fellBack: number; busy: number; reportsDropped: number } | undefined {
    return this.#sharedLookups === undefined ? undefined : { ...this.#sharedLookups.counters };
  }

  /**
   * Whether lookups are answered from a same-host member's shared index: '' when they are (the
   * client was made with lookupVia 'shared-memory' and found one), else why not. Probes now when
   * not known yet.
   */
  async sharedLookupProblem(): Promise<string> {
    if (this.#sharedLookups === undefined) return "the client's lookupVia is 'grpc'";
    const found = await this.#sharedLookups.describe();
    return 'why' in found ? found.why : '';
  }

  /**
   * Pages whose copy from a shared arena did not match its crc32c, and that were streamed instead
   * (a lease that expired before the copy, or a damaged copy in the member's memory).
   */
  get sharedCopiesRefused(): number {
    return this.#sharedCopiesRefused;
  }

  /** Pages (or layer ranges) copied from a member's shared arena, refused ones included. */
  get sharedCopies(): number {
    return this.#sharedCopies;
  }

  /**
   * Whether reads from `endpoint` can use shared memory; '' when they do, else why not (the
   * member is on another host, does not share its arena, ...). Asks the member when not known yet.
   */
  async sharedMemoryProblem(endpoint: string): Promise<string> {
    return (await this.#shm.arena(endpoint)) === undefined ? await this.#shm.whyStreamed(endpoint) : '';
  }

  /** Closes every channel and unmaps the shared arenas; calls made afterwards fail. */
  close(): void {
    this.#closing.abort();
    this.#putLanes?.close();
    this.#shm.close();
    this.#sharedLookups?.close();
    this.#pool.close();
  }

  async #call<Req, Res>(target: Target, idempotent: boolean, rpc: Rpc<Req, Res>, request: Req, metadata?: grpc.Metadata): Promise<Res> {
    return (await this.#callAt(target, idempotent, rpc, request, metadata)).response;
  }

  /** A unary call with retries, and which member finally answered (for its errors and reports). */
  #callAt<Req, Res>(target: Target, idempotent: boolean, rpc: Rpc<Req, Res>, request: Req, metadata?: grpc.Metadata): Promise<{ response: Res; answeredBy: string }> {
    return this.#withRetry({ target, idempotent }, async (endpoint) => {
      const response = await unaryCall(this.#pool.client(endpoint), rpc, request, metadata?.clone() ?? this.#cacheMetadata(), this.#deadlineMs);
      return { response, answeredBy: endpoint };
    });
  }

  /**
   * Runs `attempt` against the right member until it succeeds or retry.ts says to give up. Members
   * that could not be reached during this call are avoided, and a redirect to one of them (a
   * follower still naming the leader that just died) is not followed: the members are asked again
   * until one names a live leader, as a wait for the election (#awaitsElection).
   */
  async #withRetry<T>(spec: CallSpec, attempt: (endpoint: string) => Promise<T>): Promise<T> {
    let redirectTo: string | undefined;
    const call: CallState = { unreachable: new Set() };
    for (let retry = 0; ; retry++) {
      const endpoint = redirectTo ?? this.#pick(spec.target, call.unreachable);
      redirectTo = undefined;
      try {
        const result = await attempt(endpoint);
        // A member that accepted a write is the leader (or forwards to it): keep writing there.
        if (spec.target === 'leader') this.#pool.setLeader(endpoint);
        return result;
      } catch (thrown) {
        const error = toClientError(thrown, endpoint);
        if (error.code === 'KVC_UNAVAILABLE') call.unreachable.add(endpoint);
        let decision: Decision = typeof spec.target === 'object' ? { kind: 'fail' } : decide(error, spec.idempotent, endpoint);
        if (decision.kind === 'redirect' && call.unreachable.has(decision.leader)) decision = { kind: 'backoff' };
        if (this.#awaitsElection(spec, error, decision, call)) {
          if (this.#pool.leader === endpoint || call.unreachable.has(this.#pool.leader ?? '')) this.#pool.setLeader(undefined);
          await sleep(leaderPollMs());
          retry--; // Waiting out an election spends time (leaderWaitMs), not retries.
          continue;
        }
        redirectTo = await this.#afterFailure(error, decision, endpoint, retry);
      }
    }
  }

  /** A write refused for want of a live leader, within the call's leaderWaitMs since the first such refusal. */
  #awaitsElection(spec: CallSpec, error: KvcClientError, decision: Decision, call: CallState): boolean {
    if (spec.target !== 'leader' || decision.kind !== 'backoff' || !isRefusal(error)) return false;
    const now = performance.now();
    call.electionSinceMs ??= now;
    return now - call.electionSinceMs < this.#policy.leaderWaitMs;
  }

  /**
   * Acts on a failed attempt: throws when giving up, otherwise returns where to go next (a
   * redirect's leader, or undefined for the usual pick) after any backoff.
   */
  async #afterFailure(error: KvcClientError, decision: Decision, endpoint: string, retry: number): Promise<string | undefined> {
    if (decision.kind === 'fail' || retry >= this.#policy.retries) {
      error.attempts = retry + 1;
      throw error;
    }
    if (decision.kind === 'redirect') {
      this.#pool.setLeader(decision.leader);
      return decision.leader;
    }
    if (this.#pool.leader === endpoint) this.#pool.setLeader(undefined);
    await sleep(backoffMs(this.#policy, retry));
    return undefined;
  }

  /** Where the next attempt goes, avoiding members this call could not reach while others remain. */
  #pick(target: Target, unreachable: ReadonlySet<string> = new Set()): string {
    if (typeof target === 'object') return target.endpoint;
    const leader = this.#pool.leader;
    if (target === 'leader' && leader !== undefined && !unreachable.has(leader)) return leader;
    for (let tried = 1; tried < this.#pool.known().length; tried++) {
      const next = this.#pool.nextReplica();
      if (!unreachable.has(next)) return next;
    }
    return this.#pool.nextReplica();
  }

  /**
   * One batch of a get, resumed after failures from the first page not yet delivered. A member
   * that lacks a page (it may lag) is not the last word: the others are asked, the leader first,
   * before KVC_NOT_FOUND is final. Returns false when `allowPartial` cut the batch short.
   */
  async *#getBatch(ns: string, keys: Uint8Array[], o: GetPagesOptions, destination: PageDestination): AsyncGenerator<Page, boolean, undefined> {
    let delivered = 0;
    const lacking = new Set<string>();
    const failed = new Set<string>();
    let next: string | undefined;
    for (let retry = 0; ; retry++) {
      const endpoint = o.endpoint ?? next ?? this.#readReplica(o, failed);
      next = undefined;
      try {
        for await (const page of this.#streamPages(endpoint, ns, keys.slice(delivered), o, destination)) {
          delivered++;
          lacking.clear();
          yield page;
        }
        return true;
      } catch (thrown) {
        const error = toClientError(thrown, endpoint);
        if (error.code === 'KVC_NOT_FOUND') {
          lacking.add(endpoint);
          next = o.endpoint === undefined ? this.#memberNotIn(lacking) : undefined;
          if (next !== undefined && retry < this.#policy.retries) continue;
          if (o.allowPartial === true) return false;
          error.attempts = retry + 1;
          throw error;
        }
        failed.add(endpoint);
        // A member that cannot be reached is not the same-host member reads prefer until a read
        // maps its arena again.
        if (error.code === 'KVC_UNAVAILABLE') this.#shm.forget(endpoint);
        const decision = o.endpoint !== undefined ? ({ kind: 'fail' } as const) : decideRead(error, endpoint);
        next = await this.#afterFailure(error, decision, endpoint, retry);
      }
    }
  }

  /**
   * The pages of `keys` from `endpoint`: over shared memory when asked for and the member's arena
   * is readable here (in streams of at most the keys one client may lease), else over gRPC. A
   * member that refuses the shared-memory proof (it restarted: KVC_SHM_NOT_ON_HOST) or this
   * client's lease count (KVC_TOO_MANY_LEASES) gets the rest of the keys as a gRPC stream, and
   * so does a copy whose crc32c does not match (the member hands out pages it has not read, since
   * this client checks every copy: client_verifies; its stream checks them, and drops a damaged
   * copy). A refusal of the lease ids a stream carried to release (one expired while waiting)
   * fails it before any page; that stream is asked for again without carrying any.
   */
  async *#streamPages(endpoint: string, ns: string, keys: Uint8Array[], o: GetPagesOptions, destination: PageDestination): AsyncGenerator<Page> {
    const arena = (o.transfer ?? this.#transfer) === 'shared-memory' ? await this.#shm.arena(endpoint) : undefined;
    if (arena === undefined) return yield* this.#streamOnce(endpoint, ns, keys, o, destination, undefined);
    let delivered = 0;
    let carry = true;
    for (;;) {
      try {
        for (const batch of batches(keys.slice(delivered), arena.leasesPerClientMax)) {
          for await (const page of this.#streamOnce(endpoint, ns, batch, o, destination, arena, carry)) {
            delivered++;
            yield page;
          }
          carry = true;
        }
        return;
      } catch (thrown) {
        const error = toClientError(thrown, endpoint);
        // The ids carried are gone either way: released, or not this client's live leases.
        if (carry && LEASE_REFUSALS.has(error.code)) {
          carry = false;
          continue;
        }
        if (error.code === 'KVC_SHM_NOT_ON_HOST') this.#shm.forget(endpoint);
        // A copy this client refused (grpcCode UNKNOWN: detected here), not a page the member refused.
        else if (error.code === 'KVC_CHECKSUM_MISMATCH' && error.grpcCode === grpc.status.UNKNOWN) this.#sharedCopiesRefused++;
        else if (error.code !== 'KVC_TOO_MANY_LEASES') throw error;
        return yield* this.#streamOnce(endpoint, ns, keys.slice(delivered), o, destination, undefined);
      }
    }
  }

  /**
   * One GetPages stream; with `arena`, a TRANSFER_SHARED_MEMORY one whose leases are released
   * after it (PendingReleases), and that carries (`carry`) the releases of earlier ones.
   */
  async *#streamOnce(endpoint: string, ns: string, keys: Uint8Array[], o: GetPagesOptions, destination: PageDestination, arena: MemberArena | undefined, carry = false): AsyncGenerator<Page> {
    const request: GetPagesRequest = {
      namespace: ns,
      keys,
      asDtype: toWireDtype(o.asDtype),
      layerBegin: o.layerBegin ?? 0,
      layerEnd: o.layerEnd ?? 0,
    };
    if (arena !== undefined) {
      request.transfer = 'TRANSFER_SHARED_MEMORY';
      request.shmNonce = arena.nonce;
      request.clientId = this.#shm.clientId;
      // PageAssembler checks every page copied from the arena, whatever verifyChecksums says.
      request.clientVerifies = true;
      const releasing = carry ? this.#shm.releasesToCarry(endpoint, arena) : [];
      if (releasing.length > 0) request.releaseLeaseIds = releasing;
    }
    const call = serverStream(this.#pool.client(endpoint), this.#rpcs.getPages, request, this.#cacheMetadata(), o.deadlineMs ?? this.#deadlineMs);
    const copy: SharedCopy | undefined =
      arena === undefined
        ? undefined
        : (shared, target) => {
            this.#sharedCopies++;
            return copySharedPage(arena, shared, target);
          };
    const assembler = new PageAssembler(keys, endpoint, destination, this.#verifyChecksums, copy);
    const leaseIds: number[] = [];
    const push = (message: GetPagesResponse): Page | Promise<Page> | undefined => {
      // Noted before the copy, so a failed copy's lease is released too.
      if (message.shared) leaseIds.push(message.shared.leaseId);
      return assembler.push(message);
    };
    try {
      yield* pagesInOrder((call as AsyncIterable<GetPagesResponse>)[Symbol.asyncIterator](), push, COPIES_AHEAD_MAX);
      assembler.finish();
      if (assembler.completed !== keys.length) {
        throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, `GetPages ended after ${assembler.completed} of ${keys.length} pages without an error`, endpoint);
      }
    } finally {
      // Ends the call when the consumer stopped early or a check failed; a no-op once it finished.
      call.cancel();
      // The bytes are copied and checked (pagesInOrder waited for every copy it started): the next
      // GetPages to this member carries the releases, or one ReleasePages does shortly, so the
      // caller never waits a round trip for them.
      if (arena !== undefined && leaseIds.length > 0) this.#shm.copied(endpoint, arena, leaseIds);
    }
  }

  /**
   * Ends leases whose bytes were copied (PendingReleases sends them). Best effort: the copies were
   * checked against their crc32c already, and a lease not released (the member restarted, it
   * expired, the call failed) ends by itself within its lease time.
   */
  async #releaseLeases(endpoint: string, arena: MemberArena, leaseIds: number[]): Promise<void> {
    const request = { shmNonce: arena.nonce, clientId: this.#shm.clientId, leaseIds };
    try {
      await unaryCall(this.#pool.client(endpoint), this.#rpcs.releasePages, request, this.#cacheMetadata(), this.#deadlineMs);
    } catch {
      // Including a client closed meanwhile (pool.client throws): the leases expire.
    }
  }

  /**
   * Where a read goes when nothing else decides: over shared memory, the member on this host (the
   * first whose arena an earlier read mapped), since only its pages can be copied here and its
   * answers are a place per page, not the bytes (concentrating on it also batches its work);
   * until one is known, after it failed this read, and for gRPC reads, the replicas in turn.
   */
  #readReplica(o: GetPagesOptions, failed: ReadonlySet<string>): string {
    const sharing = (o.transfer ?? this.#transfer) === 'shared-memory';
    const local = sharing ? this.#shm.sameHostMember(this.#pool.known().filter((endpoint) => !failed.has(endpoint))) : undefined;
    return local ?? this.#pool.nextReplica();
  }

  /** A member to ask next for a page `lacking` do not have: the leader if known, else any other. */
  #memberNotIn(lacking: ReadonlySet<string>): string | undefined {
    const leader = this.#pool.leader;
    if (leader !== undefined && !lacking.has(leader)) return leader;
    return this.#pool.known().find((address) => !lacking.has(address));
  }

  #learn(status: MemberStatus): void {
    for (const member of status.members) this.#pool.add(member.address);
    if (status.leaderAddress !== '') this.#pool.setLeader(status.leaderAddress);
  }

  #adminMetadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.#adminToken !== undefined) metadata.set('authorization', `Bearer ${this.#adminToken}`);
    return addTraceContext(metadata);
  }

  /** Metadata of a CacheService call: the token, when the client has one. */
  #cacheMetadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.#token !== undefined) metadata.set('authorization', `Bearer ${this.#token}`);
    return addTraceContext(metadata);
  }
}

/** Channel credentials for `tls`: the CA to check members against, and a client certificate if given. */
function tlsCredentials(tls: ClientTls): grpc.ChannelCredentials {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new TypeError('tls: give both cert and key, or neither');
  const pem = (value: string | Buffer | undefined): Buffer | null => (value === undefined ? null : Buffer.from(value));
  return grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
}

/**
 * A stream that failed the client's checks: damaged in transit or by a misbehaving member.
 * Reads change nothing, so another replica (or another try) is always worth asking.
 */
const DAMAGED_READ_CODES: ReadonlySet<string> = new Set([
  'KVC_CHECKSUM_MISMATCH',
  'KVC_INCOMPLETE_PAGE',
  CLIENT_ERROR_CODES.KVC_PROTOCOL,
]);

/** A member's refusals of lease ids to release (ReleasePages, GetPagesRequest.release_lease_ids). */
const LEASE_REFUSALS: ReadonlySet<string> = new Set(['KVC_LEASE_UNKNOWN', 'KVC_LEASE_NOT_OWNED']);

function decideRead(error: KvcClientError, endpoint: string): Decision {
  if (DAMAGED_READ_CODES.has(error.code)) return { kind: 'backoff' };
  return decide(error, true, endpoint);
}

/** A member that sends no settings predates eviction; the caller cannot act on defaults it guessed. */
function requireSettings(settings: ClusterSettings | null, rpc: string, endpoint: string): ClusterSettings {
  if (settings === null) throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, `${rpc} answered without settings (a member older than eviction?)`, endpoint);
  return settings;
}

function toPageListing(response: ListPagesResponse, endpoint: string): PageListing {
  const pages = response.pages.map((p) => ({ namespace: p.namespace, key: new Uint8Array(p.key), parentKey: new Uint8Array(p.parentKey), bytes: p.bytes, tokens: p.tokens }));
  return { pages, appliedIndex: response.appliedIndex, nextPageToken: response.nextPageToken, watchFromIndex: response.watchFromIndex, endpoint };
}

function toRemovalList(response: ListRemovalsResponse, endpoint: string): RemovalList {
  // Keys arrive as Buffers that may share one pool; each removal gets a key of its own.
  const removals = response.removals.map((r) => ({ index: r.index, namespace: r.namespace, key: new Uint8Array(r.key), reason: r.reason }));
  return { removals, oldestIndex: response.oldestIndex, appliedIndex: response.appliedIndex, more: response.more, endpoint };
}

function readTarget(endpoint: string | undefined): Target {
  return endpoint === undefined ? 'replica' : { endpoint };
}

function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  // An empty request is still sent once, so the server's answer (and its errors) are the caller's.
  if (items.length === 0) yield [];
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

type PreparedPage = { meta: PutMeta; data: Uint8Array };

/** Splits a put into streams of at most keysPerRequestMax pages and PUT_STREAM_BYTES_MAX bytes. */
function* putBatches(pages: PreparedPage[]): Generator<PreparedPage[]> {
  let batch: PreparedPage[] = [];
  let bytes = 0;
  for (const page of pages) {
    const full = batch.length >= LIMITS.page.keysPerRequestMax || bytes + page.data.byteLength > PUT_STREAM_BYTES_MAX;
    if (batch.length > 0 && full) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(page);
    bytes += page.data.byteLength;
  }
  if (batch.length > 0) yield batch;
}

function* batchMessages(batch: PreparedPage[]): Generator<PutPagesRequest> {
  for (const page of batch) yield* pageMessages(page.meta, page.data);
}

function checkPutResults(response: PutPagesResponse, batch: PreparedPage[], endpoint: string): PutOutcome[] {
  const results = response.results;
  const matches = results.length === batch.length && results.every((r, i) => sameBytes(r.key, batch[i]!.meta.key));
  if (!matches) {
    throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, `PutPages answered ${results.length} results for ${batch.length} pages, or out of order`, endpoint);
  }
  return results.map((r) => ({ key: new Uint8Array(r.key), code: r.code, message: r.message }));
}

function checkTransfer(transfer: string, what = 'transfer'): Transfer {
  if (transfer !== 'grpc' && transfer !== 'shared-memory') throw new RangeError(`${what} must be 'grpc' or 'shared-memory', got ${transfer}`);
  return transfer;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

