// The harness's window on one member, through the client library on the member's real port:
// AdminService.Status (with the store digest when asked, for the convergence check), and the
// membership and transfer calls the nemeses make. Each call is one attempt (no retries of the
// library's own) with a deadline that fits its purpose: the harness polls, and a member that is
// down, paused or partitioned simply does not answer this time.
//
// AdminService.ListRemovals (the replicated removal record) is called here on a raw grpc-js
// client with the method descriptor from admin.proto: the client library has no method for it,
// and the harness needs only this one read.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CLIENT_CHANNEL_OPTIONS, KvcClient, type MemberStatus } from '../client/index.js';
import { PROTO_LOADER_OPTIONS, type ListRemovalsRequest, type ListRemovalsResponse__Output as ListRemovalsResponse } from '../proto/index.js';
import { hex } from './checkers/common.js';
import type { RemovalEntry, RemovalReason } from './history.js';

/** A Status poll that takes longer than this is treated as no answer (a paused member never answers). */
export const STATUS_DEADLINE_MS = 1_000;
/** Reading the whole store for the digest takes longer than a plain Status. */
export const DIGEST_DEADLINE_MS = 10_000;
/** Membership changes and transfers answer once applied; an election in between can take seconds. */
export const ADMIN_CHANGE_DEADLINE_MS = 8_000;
/** One page of the removal record: a member reads at most 10,000 entries from LevelDB for it. */
export const REMOVALS_DEADLINE_MS = 10_000;
/** Entries asked per ListRemovals page (the server's own cap). */
export const REMOVALS_PAGE_ENTRIES = 10_000;
/**
 * Pages read before giving up: the server keeps at most 100,000 entries (limits.ts), about 10
 * pages even with the overlap each page starts with; a record that does not end is a bug.
 */
const REMOVALS_PAGES_MAX = 64;
/** The reasons admin.proto's Removal.reason documents (a string on the wire, so the generated type says string). */
const REMOVAL_REASONS: ReadonlySet<string> = new Set<RemovalReason>(['evicted', 'expired', 'deleted', 'namespace-dropped']);

/** What the harness reads from a member's Status. */
export interface MemberView {
  id: number;
  role: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  leaderId: number;
  voters: number[];
  learners: number[];
  /** '' unless asked for. */
  digest: string;
  /** Replicated removal counters (all namespaces) and stored figures. */
  evictedPages: number;
  evictedBytes: number;
  expiredPages: number;
  pages: number;
  bytes: number;
}

/** The whole removal record as one member answered it, page after page. */
export interface RemovalRecordRead {
  entries: RemovalEntry[];
  oldestIndex: number;
  /** The member's applied index with the last page. */
  appliedIndex: number;
}

export class AdminLink {
  readonly id: number;
  readonly address: string;
  // One client per deadline: the library's deadline is per client.
  readonly #poll: KvcClient;
  readonly #digest: KvcClient;
  #raw: grpc.Client | undefined;

  constructor(id: number, address: string) {
    this.id = id;
    this.address = address;
    this.#poll = this.#client(STATUS_DEADLINE_MS);
    this.#digest = this.#client(DIGEST_DEADLINE_MS);
  }

  async status(o: { digest?: boolean } = {}): Promise<MemberView> {
    const status = o.digest === true ? await this.#digest.status(this.address, { includeDigest: true }) : await this.#poll.status(this.address);
    return view(status);
  }

  addMember(id: number, address: string, learner: boolean): Promise<void> {
    return this.#change((client) => client.addMember(id, address, learner));
  }

  removeMember(id: number): Promise<void> {
    return this.#change((client) => client.removeMember(id));
  }

  transferLeader(id: number): Promise<number> {
    return this.#change((client) => client.transferLeader(id));
  }

  /**
   * Reads the member's whole removal record from index 0, following `more` page after page. The
   * next page starts at the last index returned, not after it: one log entry (one `evict`
   * command) may remove many pages, and a page may end in the middle of it, so entries already
   * held are skipped by (index, position) instead.
   */
  async removals(): Promise<RemovalRecordRead> {
    const entries: RemovalEntry[] = [];
    const seen = new Map<number, number>();
    let fromIndex = 0;
    for (let page = 0; page < REMOVALS_PAGES_MAX; page++) {
      const answer = await this.#listRemovals({ fromIndex, limit: REMOVALS_PAGE_ENTRIES });
      const atIndex = new Map<number, number>();
      for (const removal of answer.removals) {
        const position = atIndex.get(removal.index) ?? 0;
        atIndex.set(removal.index, position + 1);
        if (position < (seen.get(removal.index) ?? 0)) continue;
        seen.set(removal.index, position + 1);
        entries.push({ index: removal.index, ns: removal.namespace, key: hex(removal.key), reason: removalReason(removal.reason) });
      }
      const last = answer.removals.at(-1)?.index;
      if (!answer.more || last === undefined) return { entries, oldestIndex: answer.oldestIndex, appliedIndex: answer.appliedIndex };
      if (last === fromIndex && atIndex.get(last) === answer.removals.length) throw new Error(`one log entry (${last}) holds more removals than a page`);
      fromIndex = last;
    }
    throw new Error(`the removal record did not end within ${REMOVALS_PAGES_MAX} pages`);
  }

  close(): void {
    for (const client of [this.#poll, this.#digest]) client.close();
    this.#raw?.close();
  }

  #listRemovals(request: ListRemovalsRequest): Promise<ListRemovalsResponse> {
    this.#raw ??= new grpc.Client(this.address, grpc.credentials.createInsecure(), { ...CLIENT_CHANNEL_OPTIONS });
    const method = listRemovalsMethod();
    const deadline = new Date(Date.now() + REMOVALS_DEADLINE_MS);
    return new Promise((resolve, reject) => {
      this.#raw!.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, new grpc.Metadata(), { deadline }, (error, response) => {
        if (error) return reject(error);
        return resolve(response as ListRemovalsResponse);
      });
    });
  }

  #client(deadlineMs: number): KvcClient {
    return new KvcClient({ endpoints: [this.address], retries: 0, leaderWaitMs: 0, deadlineMs });
  }

  /**
   * A change on a client of its own, closed after: the library learns addresses from what the
   * member answers (proxy addresses, here), and a later call must not wander off to one of them.
   */
  async #change<T>(call: (client: KvcClient) => Promise<T>): Promise<T> {
    const client = this.#client(ADMIN_CHANGE_DEADLINE_MS);
    try {
      return await call(client);
    } finally {
      client.close();
    }
  }
}

function view(status: MemberStatus): MemberView {
  return {
    id: status.id,
    role: status.role,
    term: status.term,
    commitIndex: status.commitIndex,
    appliedIndex: status.appliedIndex,
    leaderId: status.leaderId,
    voters: status.members.filter((m) => !m.learner).map((m) => m.id),
    learners: status.members.filter((m) => m.learner).map((m) => m.id),
    digest: status.digest,
    evictedPages: status.evictedPages,
    evictedBytes: status.evictedBytes,
    expiredPages: status.expiredPages,
    pages: status.pages,
    bytes: status.bytes,
  };
}

function removalReason(reason: string): RemovalReason {
  assert.ok(REMOVAL_REASONS.has(reason), `a removal with reason ${JSON.stringify(reason)}, which admin.proto does not name`);
  return reason as RemovalReason;
}

type ListRemovalsMethod = protoLoader.MethodDefinition<ListRemovalsRequest, ListRemovalsResponse>;
let listRemovalsDefinition: ListRemovalsMethod | undefined;

/** AdminService.ListRemovals from admin.proto, loaded once per process with the shared loader options. */
function listRemovalsMethod(): ListRemovalsMethod {
  if (listRemovalsDefinition !== undefined) return listRemovalsDefinition;
  const definition = protoLoader.loadSync(['kvcache/v1/admin.proto'], PROTO_LOADER_OPTIONS);
  const service = definition['kvcache.v1.AdminService'] as protoLoader.ServiceDefinition | undefined;
  const method = service?.['ListRemovals'];
  if (method === undefined) throw new Error('admin.proto has no AdminService.ListRemovals');
  listRemovalsDefinition = method as unknown as ListRemovalsMethod;
  return listRemovalsDefinition;
}
