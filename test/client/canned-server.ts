// A small but real kvcache.v1 server for the client tests: grpc-js servers on 127.0.0.1 port 0
// that implement CacheService and AdminService from the repository's protos with canned,
// controllable behaviour. It is a real gRPC peer (HTTP/2, protobuf, trailers, deadlines), not a
// mock of the client: the client under test cannot tell it from a member, and each test can make
// it misbehave on purpose (no leader, redirects, delays, damaged GetPages streams, errors with
// `kvc-code` trailers) to exercise one client rule at a time. The members of one CannedCluster
// share one page map: "replication" is instant, except for keys a member is told to hide (a
// lagging replica).

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { crc32c } from '../../src/codec/index.js';
import { LIMITS } from '../../src/limits.js';
import { PROTO_LOADER_OPTIONS } from '../../src/client/index.js';
import type {
  DeletePagesRequest__Output as KeysRequest,
  GetPagesRequest__Output as GetPagesRequest,
  GetPagesResponse,
  LookupRequest__Output as LookupRequest,
  PageMeta__Output as WirePageMeta,
  PutPagesRequest__Output as PutPagesRequest,
  PutResult,
  StatusResponse,
} from '../../src/proto/index.js';

const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': LIMITS.rpc.clientMessageBytesMax,
  'grpc.max_send_message_length': LIMITS.rpc.clientMessageBytesMax,
  'grpc-node.flow_control_window': LIMITS.rpc.flowControlWindowBytes,
};

/** How a member damages its GetPages streams (each is a contract violation the client must catch). */
export type StreamFault = 'none' | 'gap' | 'truncate' | 'corrupt' | 'short' | 'wrong-key' | 'no-meta';

export interface CannedFailure {
  method: string;
  code: grpc.status;
  kvcCode?: string;
  leader?: string;
  /** PutPages: store the pages first, then answer the error (an ambiguous failure). */
  afterApply?: boolean;
}

export interface StoredPage {
  meta: WirePageMeta;
  data: Buffer;
}

const hexKey = (ns: string, key: Uint8Array): string => `${ns}/${Buffer.from(key).toString('hex')}`;

function statusError(code: grpc.status, kvcCode: string | undefined, details: string, leader?: string): grpc.ServerErrorResponse {
  const metadata = new grpc.Metadata();
  if (kvcCode !== undefined) metadata.set('kvc-code', kvcCode);
  if (leader !== undefined) metadata.set('kvcache-leader', leader);
  return Object.assign(new Error(details), { code, details, metadata });
}

export class CannedMember {
  readonly id: number;
  readonly cluster: CannedCluster;
  readonly server = new grpc.Server(SERVER_OPTIONS);
  address = '';
  /** Method names in the order this member received them. */
  readonly calls: string[] = [];
  /** Every PutPages message this member received. */
  readonly putMessages: PutPagesRequest[] = [];
  /** Metadata of every Admin call. */
  readonly adminMetadata: grpc.Metadata[] = [];
  /** Keys (ns/hex) this member pretends not to have yet. */
  readonly hidden = new Set<string>();
  /** Failures to answer, consumed in order by the first call of a matching method. */
  readonly failures: CannedFailure[] = [];
  streamFault: StreamFault = 'none';
  /** Lookup answers this instead of the truth (a broken member). */
  lookupOverride: number | undefined;
  /** Lookup ignores more_prompts, as a member older than them does. */
  ignoresMorePrompts = false;
  /** The number of prompts of each Lookup call received. */
  readonly lookupPrompts: number[] = [];
  /** The client address (host:port, so one per connection) of every unary call. */
  readonly peers = new Set<string>();
  /** PutPages answers one result fewer than it stored (a broken member). */
  dropPutResult = false;
  /** Delay before answering any call, in ms. */
  delayMs = 0;
  adminToken: string | undefined;

  constructor(id: number, cluster: CannedCluster) {
    this.id = id;
    this.cluster = cluster;
  }

  count(method: string): number {
    return this.calls.filter((c) => c === method).length;
  }

  async start(): Promise<void> {
    const definition = protoLoader.loadSync(['kvcache/v1/cache.proto', 'kvcache/v1/admin.proto'], PROTO_LOADER_OPTIONS);
    this.server.addService(definition['kvcache.v1.CacheService'] as protoLoader.ServiceDefinition, this.#cacheHandlers());
    this.server.addService(definition['kvcache.v1.AdminService'] as protoLoader.ServiceDefinition, this.#adminHandlers());
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    );
    this.address = `127.0.0.1:${port}`;
  }

  stop(): void {
    this.server.forceShutdown();
  }

  /** The first queued failure for `method`, removed from the queue. */
  #takeFailure(method: string): CannedFailure | undefined {
    const index = this.failures.findIndex((f) => f.method === method);
    return index < 0 ? undefined : this.failures.splice(index, 1)[0];
  }

  /** Common entry of every handler: records the call, waits, and answers a queued failure. */
  async #enter(method: string): Promise<CannedFailure | undefined> {
    this.calls.push(method);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.#takeFailure(method);
  }

  /** The error a non-leader answers to a write, or undefined on the leader. */
  #notLeader(): grpc.ServerErrorResponse | undefined {
    const leader = this.cluster.leader();
    if (leader === this) return undefined;
    if (leader === undefined) return statusError(grpc.status.UNAVAILABLE, 'KVC_NO_LEADER', 'no leader yet');
    return statusError(grpc.status.UNAVAILABLE, 'KVC_NOT_LEADER', 'not the leader', leader.address);
  }

  #has(ns: string, key: Uint8Array): StoredPage | undefined {
    const id = hexKey(ns, key);
    return this.hidden.has(id) ? undefined : this.cluster.pages.get(id);
  }

  #unary<Req, Res>(method: string, write: boolean, body: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | grpc.ServerErrorResponse) {
    return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      this.peers.add(call.getPeer());
      void this.#enter(method).then((failure) => {
        if (failure) return callback(statusError(failure.code, failure.kvcCode, `canned ${method} failure`, failure.leader));
        const refusal = write ? this.#notLeader() : undefined;
        if (refusal) return callback(refusal);
        const result = body(call.request, call);
        if (result instanceof Error) return callback(result);
        return callback(null, result);
      });
    };
  }

  #cacheHandlers(): grpc.UntypedServiceImplementation {
    const tooMany = (keys: unknown[]): grpc.ServerErrorResponse | undefined =>
      keys.length > LIMITS.page.keysPerRequestMax ? statusError(grpc.status.INVALID_ARGUMENT, 'KVC_TOO_MANY_KEYS', `${keys.length} keys`) : undefined;
    return {
      Lookup: this.#unary<LookupRequest, object>('Lookup', false, (r) => {
        const more = this.ignoresMorePrompts ? [] : (r.morePrompts ?? []).map((p) => p.keys);
        this.lookupPrompts.push(1 + more.length);
        const refusal = tooMany([...r.keys, ...more.flat()]);
        if (refusal) return refusal;
        if ([r.keys, ...more].some((keys) => keys.some((key) => key.byteLength < 8))) {
          return statusError(grpc.status.INVALID_ARGUMENT, 'KVC_INVALID_KEY', 'a key under 8 bytes');
        }
        const prefix = (keys: Uint8Array[]): number => {
          let matched = 0;
          while (matched < keys.length && this.#has(r.namespace, keys[matched]!)) matched++;
          return matched;
        };
        return { matched: this.lookupOverride ?? prefix(r.keys), appliedIndex: 7, moreMatched: more.map(prefix) };
      }),
      GetPages: (call: grpc.ServerWritableStream<GetPagesRequest, GetPagesResponse>) => void this.#getPages(call),
      PutPages: (call: grpc.ServerReadableStream<PutPagesRequest, object>, callback: grpc.sendUnaryData<object>) =>
        void this.#putPages(call, callback),
      DeletePages: this.#unary<KeysRequest, object>('DeletePages', true, (r) => {
        for (const key of r.keys) this.cluster.pages.delete(hexKey(r.namespace, key));
        return {};
      }),
      PinPages: this.#unary<KeysRequest, object>('PinPages', true, () => ({})),
      UnpinPages: this.#unary<KeysRequest, object>('UnpinPages', true, () => ({})),
    };
  }

  async #getPages(call: grpc.ServerWritableStream<GetPagesRequest, GetPagesResponse>): Promise<void> {
    const failure = await this.#enter('GetPages');
    if (failure) return void call.emit('error', statusError(failure.code, failure.kvcCode, 'canned GetPages failure', failure.leader));
    const { namespace, keys } = call.request;
    for (let i = 0; i < keys.length; i++) {
      const page = this.#has(namespace, keys[i]!);
      if (page === undefined) return void call.emit('error', statusError(grpc.status.NOT_FOUND, 'KVC_NOT_FOUND', `page ${i} not found`));
      const chunks = this.#chunks(page, i);
      for (const chunk of chunks) call.write(chunk);
      if (this.streamFault === 'truncate' || (this.streamFault === 'short' && i === 0)) return void call.end();
    }
    return void call.end();
  }

  /** The messages of one page, damaged as `streamFault` says. */
  #chunks(page: StoredPage, index: number): GetPagesResponse[] {
    const chunkBytes = LIMITS.page.chunkBytes;
    const chunks: GetPagesResponse[] = [];
    const size = page.data.byteLength;
    for (let offset = 0; offset < size || (size === 0 && offset === 0); offset += chunkBytes) {
      const end = Math.min(offset + chunkBytes, size);
      let data = page.data.subarray(offset, end);
      if (this.streamFault === 'corrupt' && offset === 0 && data.byteLength > 0) {
        data = Buffer.from(data);
        data[0]! ^= 0xff;
      }
      chunks.push({ meta: offset === 0 ? page.meta : null, data, offset, last: end === size });
      if (size === 0) break;
    }
    if (this.streamFault === 'gap' && chunks.length > 2) chunks.splice(1, 1);
    if (this.streamFault === 'truncate') chunks.pop();
    if (this.streamFault === 'wrong-key' && index === 1) chunks[0]!.meta = { ...page.meta, key: Buffer.alloc(16, 0xee) };
    if (this.streamFault === 'no-meta') chunks[0]!.meta = null;
    return chunks;
  }

  async #putPages(call: grpc.ServerReadableStream<PutPagesRequest, object>, callback: grpc.sendUnaryData<object>): Promise<void> {
    const messages: PutPagesRequest[] = [];
    const ended = new Promise<void>((resolve) => {
      call.on('data', (m: PutPagesRequest) => {
        messages.push(m);
        this.putMessages.push(m);
      });
      call.on('end', resolve);
      call.on('error', () => resolve());
    });
    const failure = await this.#enter('PutPages');
    if (failure && !failure.afterApply) return callback(statusError(failure.code, failure.kvcCode, 'canned PutPages failure', failure.leader));
    const refusal = this.#notLeader();
    if (refusal) return callback(refusal);
    await ended;
    const pages = assemblePuts(messages);
    if (pages === undefined) return callback(statusError(grpc.status.INVALID_ARGUMENT, 'KVC_INCOMPLETE_PAGE', 'stream ended mid-page'));
    const results = pages.map((page) => this.cluster.store(page));
    if (failure) return callback(statusError(failure.code, failure.kvcCode, 'canned failure after apply', failure.leader));
    return callback(null, { results: this.dropPutResult ? results.slice(1) : results });
  }

  #adminHandlers(): grpc.UntypedServiceImplementation {
    const admin = <Req, Res>(method: string, write: boolean, body: (request: Req) => Res | grpc.ServerErrorResponse) =>
      this.#unary<Req, Res>(method, write, (request, call) => {
        this.adminMetadata.push(call.metadata);
        const token = call.metadata.get('authorization')[0];
        if (this.adminToken !== undefined && token !== `Bearer ${this.adminToken}`) {
          return statusError(grpc.status.UNAUTHENTICATED, 'KVC_UNAUTHENTICATED', 'bad token');
        }
        return body(request);
      });
    return {
      Status: admin('Status', false, () => this.status()),
      AddMember: admin('AddMember', true, () => ({})),
      RemoveMember: admin('RemoveMember', true, () => ({})),
      TransferLeader: admin<{ targetId: number }, object>('TransferLeader', true, (r) => {
        this.cluster.leaderId = r.targetId;
        return { leaderId: r.targetId };
      }),
      Snapshot: admin('Snapshot', true, () => ({ walFirstIndex: 42 })),
      DropNamespace: admin('DropNamespace', true, () => ({})),
      GetConfig: admin('GetConfig', false, () => ({ json: JSON.stringify({ id: this.id, limits: LIMITS }), settings: null })),
    };
  }

  status(): StatusResponse {
    const leader = this.cluster.leader();
    return {
      id: this.id,
      address: this.address,
      role: leader === this ? 'leader' : 'follower',
      term: 3,
      commitIndex: 10,
      appliedIndex: 10,
      leaderId: leader?.id ?? 0,
      leaderAddress: leader?.address ?? '',
      members: this.cluster.members.map((m) => ({ id: m.id, address: m.address, learner: false, matchIndex: 10 })),
      pages: this.cluster.pages.size,
      bytes: [...this.cluster.pages.values()].reduce((sum, p) => sum + p.data.byteLength, 0),
      pid: process.pid,
      walFirstIndex: 1,
      walLastIndex: 10,
      walSegments: 1,
      uptimeMs: 1000,
      digest: '',
      native: null,
      memoryTier: null,
      evictedPages: 0,
      evictedBytes: 0,
      expiredPages: 0,
      settings: null,
      namespaces: [],
      blobBytes: 0,
      blobGarbageBytes: 0,
      blobFiles: 0,
      blobGcRuns: 0,
      metricsUrl: '',
      unsafeTestSwitches: [],
      watch: null,
      pagesDigest: '',
      pagesDigestIndex: 0,
    };
  }
}

/** Reassembles the pages of one PutPages stream; undefined if it ended inside a page. */
function assemblePuts(messages: PutPagesRequest[]): StoredPage[] | undefined {
  const pages: StoredPage[] = [];
  let current: { meta: WirePageMeta; parts: Uint8Array[] } | undefined;
  for (const m of messages) {
    if (m.meta) current = { meta: m.meta as WirePageMeta, parts: [] };
    if (current === undefined) return undefined;
    current.parts.push(m.data);
    if (m.last) {
      pages.push({ meta: current.meta, data: Buffer.concat(current.parts) });
      current = undefined;
    }
  }
  return current === undefined ? pages : undefined;
}

export class CannedCluster {
  readonly members: CannedMember[] = [];
  readonly pages = new Map<string, StoredPage>();
  /** Id of the leader; undefined = no leader (writes answer KVC_NO_LEADER). */
  leaderId: number | undefined = 1;

  static async start(size: number): Promise<CannedCluster> {
    const cluster = new CannedCluster();
    for (let id = 1; id <= size; id++) cluster.members.push(new CannedMember(id, cluster));
    await Promise.all(cluster.members.map((m) => m.start()));
    return cluster;
  }

  leader(): CannedMember | undefined {
    return this.members.find((m) => m.id === this.leaderId);
  }

  member(id: number): CannedMember {
    return this.members.find((m) => m.id === id)!;
  }

  /** Stores one page as a member would: first writer wins, an identical put is a success. */
  store(page: StoredPage): PutResult {
    const { meta, data } = page;
    const key = meta.key;
    if (data.byteLength !== meta.bytes || crc32c(data) !== meta.crc32c) {
      return { key, code: 'KVC_CHECKSUM_MISMATCH', message: 'bytes or crc32c do not match' };
    }
    const id = hexKey(meta.namespace, key);
    const existing = this.pages.get(id);
    if (existing !== undefined && existing.meta.crc32c !== meta.crc32c) {
      return { key, code: 'KVC_EXISTS_DIFFERENT', message: 'different crc32c' };
    }
    if (existing === undefined) this.pages.set(id, { meta: { ...meta, createdAtMs: 1_700_000_000_000 }, data });
    return { key, code: '', message: '' };
  }

  stopAll(): void {
    for (const m of this.members) m.stop();
  }
}
