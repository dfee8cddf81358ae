// Shared helpers of the rpc tests: real members started with startMember on 127.0.0.1 (data in a
// temp dir, fsync off, 10 ms ticks), and a small typed raw gRPC client built on the same proto
// definitions, so the services are exercised exactly as any gRPC client would call them (the
// project's client library lives in src/client and is tested on its own).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '../../src/codec/index.js';
import { LIMITS } from '../../src/limits.js';
import { startMember, type MemberOptions, type RunningMember } from '../../src/member/index.js';
import { freeLoopbackPorts } from '../../src/config/index.js';
import { clientChannelOptions, loadProtos } from '../../src/rpc/index.js';
import type { GetPagesResponse__Output as GetPagesResponse, PageMeta, PageMeta__Output, PutPagesRequest, PutPagesResponse__Output as PutPagesResponse } from '../../src/rpc/index.js';
import { sleep, eventually } from '../wait.js';

export const NS = 'tenant-a/llama:8b';

/** Free ports on 127.0.0.1 (src/rpc/free-ports.ts), for the tests that name them. */
export const reservePorts = freeLoopbackPorts;

export interface TestCluster {
  root: string;
  members: Map<number, RunningMember>;
  addresses: Map<number, string>;
  logs: string[];
  start(id: number, overrides?: Partial<MemberOptions>): Promise<RunningMember>;
  leader(timeoutMs?: number): Promise<RunningMember>;
  followers(): RunningMember[];
  stopAll(): Promise<void>;
}

/** `each` adds options of one member (e.g. its own TLS files) over `base`. */
export async function startCluster(ids: number[], base: Partial<MemberOptions> = {}, each: (id: number) => Partial<MemberOptions> = () => ({})): Promise<TestCluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-rpc-'));
  const ports = await reservePorts(ids.length);
  const addresses = new Map(ids.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
  const members = new Map<number, RunningMember>();
  const logs: string[] = [];
  const cluster: TestCluster = {
    root,
    members,
    addresses,
    logs,
    async start(id, overrides = {}) {
      const address = addresses.get(id) ?? '127.0.0.1:0';
      const member = await startMember({
        id,
        listen: address,
        members: ids.map((m) => ({ id: m, address: addresses.get(m)! })),
        dataDir: path.join(root, `m${id}`),
        node: { tickMs: 10, fsync: false },
        logger: (line) => logs.push(line),
        ...base,
        ...each(id),
        ...overrides,
      });
      members.set(id, member);
      addresses.set(id, member.address);
      return member;
    },
    async leader(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        for (const m of members.values()) if (!m.node.stopped && m.node.isLeader()) return m;
        await sleep(10);
      }
      throw new Error(`no leader within ${timeoutMs} ms`);
    },
    followers() {
      return [...members.values()].filter((m) => !m.node.stopped && !m.node.isLeader());
    },
    async stopAll() {
      await Promise.all([...members.values()].map((m) => m.stop().catch(() => undefined)));
      await rm(root, { recursive: true, force: true });
    },
  };
  await Promise.all(ids.map((id) => cluster.start(id)));
  return cluster;
}

// ---- a typed raw client ------------------------------------------------------------------------

type ServiceName = 'cache' | 'admin' | 'peer';

export interface CallError extends grpc.ServiceError {
  kvcCode: string | undefined;
  leader: string | undefined;
}

function withTrailers(error: grpc.ServiceError): CallError {
  const trailer = (name: string): string | undefined => {
    const value = error.metadata?.get(name)[0];
    return typeof value === 'string' ? value : undefined;
  };
  return Object.assign(error, { kvcCode: trailer('kvc-code'), leader: trailer('kvcache-leader') });
}

export class RawClient {
  readonly client: grpc.Client;

  constructor(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    this.client = new grpc.Client(address, credentials, clientChannelOptions());
  }

  static method(service: ServiceName, name: string): grpc.MethodDefinition<unknown, unknown> {
    const method = loadProtos()[service][name];
    if (method === undefined) throw new Error(`no method ${service}.${name}`);
    return method;
  }

  unary<Response>(service: ServiceName, name: string, request: object, metadata = new grpc.Metadata(), deadlineMs = 10_000): Promise<Response> {
    const method = RawClient.method(service, name);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => {
        if (error) return reject(withTrailers(error));
        return resolve(response as Response);
      });
    });
  }

  /** A server stream collected into an array; rejects with the call's error (after the messages before it). */
  async serverStream<Response>(service: ServiceName, name: string, request: object): Promise<{ messages: Response[]; error?: CallError }> {
    const method = RawClient.method(service, name);
    const call = this.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, request, new grpc.Metadata(), {});
    const messages: Response[] = [];
    try {
      for await (const message of call) messages.push(message as Response);
    } catch (error) {
      return { messages, error: withTrailers(error as grpc.ServiceError) };
    }
    return { messages };
  }

  /** Opens a client stream; the caller writes, then `end()`s or `cancel()`s it and awaits `response`. */
  clientStream<Request, Response>(service: ServiceName, name: string, serialize?: (value: Request) => Buffer): { call: grpc.ClientWritableStream<Request>; response: Promise<Response> } {
    const method = RawClient.method(service, name);
    let call!: grpc.ClientWritableStream<Request>;
    const response = new Promise<Response>((resolve, reject) => {
      const deserialize = method.responseDeserialize as (bytes: Buffer) => Response;
      const callback = (error: grpc.ServiceError | null, value?: Response): void => {
        if (error) return reject(withTrailers(error));
        return resolve(value as Response);
      };
      call = this.client.makeClientStreamRequest<Request, Response>(method.path, serialize ?? method.requestSerialize, deserialize, callback);
    });
    call.on('error', () => undefined);
    return { call, response };
  }

  close(): void {
    this.client.close();
  }
}

// ---- pages ---------------------------------------------------------------------------------------

export function pageKey(i: number, length = 16): Uint8Array {
  const key = new Uint8Array(length);
  key.fill(0x6b);
  new DataView(key.buffer).setUint32(0, i);
  return key;
}

/** Deterministic bytes for page `i`. */
export function pageBytes(i: number, bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  let x = (i * 2654435761) >>> 0 || 1;
  for (let k = 0; k < bytes; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[k] = x & 0xff;
  }
  return data;
}

export interface TestPage {
  /** The generated PageMeta a client sends, with the fields every test page sets as the tests read them back. */
  meta: Omit<PageMeta, 'createdAtMs'> & Pick<PageMeta__Output, 'namespace' | 'dtype' | 'shape' | 'tokens' | 'bytes' | 'crc32c'> & { key: Uint8Array };
  data: Uint8Array;
}

/** A u8 page of `bytes` bytes shaped [layers, bytes / layers]. */
export function u8Page(i: number, bytes: number, layers = 1, ns = NS): TestPage {
  const data = pageBytes(i, bytes);
  return { meta: { namespace: ns, key: pageKey(i), dtype: 'U8', shape: [layers, bytes / layers], tokens: 16, bytes, crc32c: crc32c(data) }, data };
}

/** The messages of one page: meta with the first chunk, then chunks of `chunkBytes`, the last marked. */
export function pageMessages(page: TestPage, chunkBytes: number = LIMITS.page.chunkBytes): PutPagesRequest[] {
  const messages: PutPagesRequest[] = [];
  const { data } = page;
  for (let offset = 0; offset === 0 || offset < data.byteLength; offset += chunkBytes) {
    const end = Math.min(offset + chunkBytes, data.byteLength);
    messages.push({
      meta: offset === 0 ? (page.meta as PutPagesRequest['meta']) : null,
      data: Buffer.from(data.buffer, data.byteOffset + offset, end - offset),
      last: end === data.byteLength,
    });
  }
  return messages;
}

/** Puts pages through one PutPages stream. */
export async function putPages(client: RawClient, pages: TestPage[], chunkBytes?: number): Promise<PutPagesResponse> {
  const { call, response } = client.clientStream<PutPagesRequest, PutPagesResponse>('cache', 'PutPages');
  for (const page of pages) for (const message of pageMessages(page, chunkBytes)) call.write(message);
  call.end();
  return response;
}

export { sleep, eventually };

/**
 * Asks GetPages for `request` until it is answered without an error (a damaged page being
 * repaired) and returns the bytes then served; fails after `timeoutMs`.
 */
export async function servedEventually(reader: RawClient, request: { namespace: string; keys: Uint8Array[] }, timeoutMs = 15_000): Promise<Buffer> {
  let served: Buffer | undefined;
  await eventually(
    async () => {
      const { messages, error } = await reader.serverStream<GetPagesResponse>('cache', 'GetPages', request);
      if (error !== undefined) return false;
      served = Buffer.concat(messages.map((m) => Buffer.from(m.data)));
      return true;
    },
    timeoutMs,
    'the member serves the page again',
  );
  return served!;
}
