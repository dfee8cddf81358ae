// The client's side of the put lane (the protocol and why: src/rpc put-lane.ts): PutPages calls to
// a member over a TCP connection of their own instead of an HTTP/2 stream, with the same messages,
// the same answers and the same errors, so putPages' retries and outcomes do not change.
//
// One connection per member, opened the first time a put goes there; until it is ready (the
// member answered the hello, and with the client's `tls` the TLS handshake that follows checked
// the member's certificate as the gRPC channels do) puts go over gRPC. A member that does not take
// the lane (an older build, a certificate refused) is asked again after PUT_LANE_RETRY_MS, one
// that could not be reached after PUT_LANE_RECONNECT_MS, its puts going over gRPC meanwhile. A
// connection that breaks fails the calls it carried with UNAVAILABLE, as a broken channel does:
// putPages retries them (puts are idempotent); the next put opens a new connection.
import net from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { LIMITS } from '../limits.js';
import { FrameReader, PUT_LANE_HEAD_BYTES, PUT_LANE_HELLO, PUT_LANE_KINDS, messagePieces, putLaneFrameHead, type PutPagesRequest, type PutPagesResponse__Output } from '../proto/index.js';

/** How long a member that did not take the lane is left to gRPC before it is asked again. */
export const PUT_LANE_RETRY_MS = 60_000;
/** How long after a connection that could not be made (the member down or restarting) the lane is tried again. */
export const PUT_LANE_RECONNECT_MS = 1_000;
/** A connection whose hello was not answered this long after it was opened is given up. */
const PUT_LANE_READY_MS = 5_000;
/** Answers are small (a key and a code per page); a frame longer than this is a broken member. */
const ANSWER_BYTES_MAX = LIMITS.rpc.clientMessageBytesMax;

type Serialize = (message: PutPagesRequest) => Buffer;
type Deserialize = (bytes: Buffer) => PutPagesResponse__Output;

/** TLS of the lane, as the client's gRPC channels have it: the cluster CA, and a client certificate if any. */
export interface PutLaneTls {
  ca: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** The put lanes of one client, by member address. */
export class PutLanes {
  readonly #serialize: Serialize;
  readonly #deserialize: Deserialize;
  readonly #tls: PutLaneTls | undefined;
  readonly #lanes = new Map<string, PutLaneConnection | { retryAtMs: number }>();
  #closed = false;

  constructor(serialize: Serialize, deserialize: Deserialize, tlsOptions?: PutLaneTls) {
    this.#serialize = serialize;
    this.#deserialize = deserialize;
    this.#tls = tlsOptions;
  }

  /** The ready lane to `endpoint`, or undefined (put over gRPC) while there is none; starts one when none is tried. */
  ready(endpoint: string): PutLaneConnection | undefined {
    if (this.#closed) return undefined;
    const lane = this.#lanes.get(endpoint);
    if (lane instanceof PutLaneConnection) return lane.isReady ? lane : undefined;
    if (lane !== undefined && Date.now() < lane.retryAtMs) return undefined;
    this.#lanes.set(
      endpoint,
      new PutLaneConnection(endpoint, this.#serialize, this.#deserialize, this.#tls, (end) => {
        if (this.#closed) return;
        // A refusal waits long, a connection not made a little; a lane that worked and broke is
        // opened again by the next put.
        if (end === 'worked') this.#lanes.delete(endpoint);
        else this.#lanes.set(endpoint, { retryAtMs: Date.now() + (end === 'refused' ? PUT_LANE_RETRY_MS : PUT_LANE_RECONNECT_MS) });
      }),
    );
    return undefined;
  }

  close(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) if (lane instanceof PutLaneConnection) lane.close();
    this.#lanes.clear();
  }
}

interface Pending {
  resolve(response: PutPagesResponse__Output): void;
  reject(error: Error): void;
}

/** One put-lane connection to a member. */
export class PutLaneConnection {
  readonly #endpoint: string;
  readonly #socket: net.Socket;
  readonly #serialize: Serialize;
  readonly #deserialize: Deserialize;
  readonly #pending = new Map<number, Pending>();
  readonly #reader: FrameReader;
  readonly #readyTimer: NodeJS.Timeout;
  /** Where frames are written and read once the lane is ready (undefined before): the socket, or the TLS socket over it. */
  #out: net.Socket | undefined;
  #helloSeen = 0;
  #refused = false;
  #ended = false;
  #nextId = 1;

  /**
   * `onEnd` once the connection is gone: 'worked' when it had been ready, 'refused' when the member
   * answered the hello otherwise, closed it unanswered or failed the TLS handshake (an older build,
   * a certificate gRPC would refuse too), 'unreached' when no connection was made.
   */
  constructor(endpoint: string, serialize: Serialize, deserialize: Deserialize, tlsOptions: PutLaneTls | undefined, onEnd: (end: 'worked' | 'refused' | 'unreached') => void) {
    this.#endpoint = endpoint;
    this.#serialize = serialize;
    this.#deserialize = deserialize;
    this.#reader = new FrameReader(ANSWER_BYTES_MAX, (frame) => this.#answer(frame));
    const parsed = hostAndPort(endpoint);
    this.#socket = net.connect({ host: parsed?.host ?? '', port: parsed?.port ?? 0, noDelay: true });
    let connected = false;
    this.#socket.on('connect', () => (connected = true));
    const onData = (chunk: Buffer): void => {
      const rest = this.#hello(chunk);
      if (rest === undefined) return;
      this.#socket.off('data', onData);
      if (tlsOptions === undefined) {
        this.#becomeReady(this.#socket);
        this.#socket.on('data', (data: Buffer) => this.#frames(data));
        this.#frames(rest);
        return;
      }
      // TLS right after the hello, checked as the gRPC channels check it (the CA, the dialled name).
      if (rest.byteLength > 0) this.#socket.unshift(rest);
      const host = parsed!.host;
      const secure = tls.connect({ socket: this.#socket, host, ca: tlsOptions.ca, ...(tlsOptions.cert !== undefined ? { cert: tlsOptions.cert } : {}), ...(tlsOptions.key !== undefined ? { key: tlsOptions.key } : {}), ...(net.isIP(host) === 0 ? { servername: host } : {}) });
      secure.on('error', () => {
        // A certificate refused either way is no lane: gRPC says why.
        if (this.#out === undefined) this.#refused = true;
        this.#socket.destroy();
      });
      secure.on('close', () => this.#socket.destroy());
      secure.on('secureConnect', () => this.#becomeReady(secure));
      secure.on('data', (data: Buffer) => this.#frames(data));
    };
    this.#socket.on('data', onData);
    this.#socket.on('error', () => undefined);
    this.#socket.on('close', () => {
      this.#ended = true;
      clearTimeout(this.#readyTimer);
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const call of pending) call.reject(serviceError(grpc.status.UNAVAILABLE, `the put-lane connection to ${this.#endpoint} closed`));
      onEnd(this.#out !== undefined ? 'worked' : this.#refused || connected ? 'refused' : 'unreached');
    });
    this.#readyTimer = setTimeout(() => {
      if (this.#out === undefined) this.#socket.destroy();
    }, PUT_LANE_READY_MS);
    this.#readyTimer.unref();
    if (parsed === undefined) {
      // Not an address the lane can dial (a `dns:` target, say): such a member is left to gRPC.
      this.#refused = true;
      this.#socket.destroy();
      return;
    }
    this.#socket.write(PUT_LANE_HELLO);
    // An idle lane does not keep the process alive, as an idle channel does not.
    this.#socket.unref();
  }

  get isReady(): boolean {
    return this.#out !== undefined && !this.#ended;
  }

  close(): void {
    this.#out?.destroy();
    this.#socket.destroy();
  }

  #becomeReady(out: net.Socket): void {
    this.#out = out;
    clearTimeout(this.#readyTimer);
  }

  /**
   * One PutPages call: opens it, writes `messages` (waiting for the socket to drain whenever its
   * buffer is full), half-closes, and resolves with the member's answer; rejects with a gRPC
   * ServiceError as a call over gRPC would (its status and trailers, DEADLINE_EXCEEDED after
   * `deadlineMs`, UNAVAILABLE when the connection breaks).
   */
  call(messages: Iterable<PutPagesRequest>, metadata: grpc.Metadata, deadlineMs: number): Promise<PutPagesResponse__Output> {
    const id = this.#nextId++;
    // The TCP socket: what keeps the process alive, or not, whichever socket the frames go on.
    const socket = this.#socket;
    return new Promise<PutPagesResponse__Output>((resolve, reject) => {
      if (this.#ended) return reject(serviceError(grpc.status.UNAVAILABLE, `the put-lane connection to ${this.#endpoint} closed`));
      let settled = false;
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        if (!this.#ended) this.#write(PUT_LANE_KINDS.cancel, id, []);
        finish(() => reject(serviceError(grpc.status.DEADLINE_EXCEEDED, `Deadline exceeded after ${deadlineMs} ms`)));
      }, deadlineMs);
      const finish = (how: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // An idle lane does not keep the process alive; one with calls in flight does.
        if (this.#pending.size === 0) socket.unref();
        how();
      };
      socket.ref();
      this.#pending.set(id, { resolve: (response) => finish(() => resolve(response)), reject: (error) => finish(() => reject(error)) });
      const open = { timeoutMs: deadlineMs, metadata: metadataObject(metadata) };
      this.#write(PUT_LANE_KINDS.open, id, [Buffer.from(JSON.stringify(open), 'utf8')]);
      this.#writeAll(id, messages, () => settled).catch((error: unknown) => {
        // A message that could not be encoded (grpc-js' serializer would throw the same): the
        // call is cancelled and fails with it, as clientStreamCall does.
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        if (!this.#ended) this.#write(PUT_LANE_KINDS.cancel, id, []);
        pending?.reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  async #writeAll(id: number, messages: Iterable<PutPagesRequest>, isSettled: () => boolean): Promise<void> {
    for (const message of messages) {
      // An early answer (an error such as KVC_NOT_LEADER) stops the upload, as on gRPC.
      if (isSettled() || this.#ended) return;
      if (!this.#write(PUT_LANE_KINDS.message, id, messagePieces(this.#serialize(message)))) await this.#drained();
    }
    if (!isSettled() && !this.#ended) this.#write(PUT_LANE_KINDS.end, id, []);
  }

  #drained(): Promise<void> {
    const out = this.#out!;
    return new Promise((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  }

  /** Writes one frame as its pieces in one corked writev; false when the socket's buffer is full. Only once ready. */
  #write(kind: number, id: number, pieces: Uint8Array[]): boolean {
    let bytes = 0;
    for (const piece of pieces) bytes += piece.byteLength;
    const socket = this.#out!;
    socket.cork();
    socket.write(putLaneFrameHead(kind, id, bytes));
    let room = true;
    for (const piece of pieces) room = socket.write(piece);
    socket.uncork();
    return room && socket.writableLength < socket.writableHighWaterMark;
  }

  /** Reads the member's hello; returns what follows it once it is whole, undefined before (or when refused). */
  #hello(chunk: Buffer): Buffer | undefined {
    let at = 0;
    while (this.#helloSeen < PUT_LANE_HELLO.byteLength && at < chunk.byteLength) {
      if (chunk[at] !== PUT_LANE_HELLO[this.#helloSeen]) {
        this.#refused = true;
        this.#socket.destroy();
        return undefined;
      }
      at++;
      this.#helloSeen++;
    }
    return this.#helloSeen === PUT_LANE_HELLO.byteLength ? chunk.subarray(at) : undefined;
  }

  #frames(chunk: Buffer): void {
    if (chunk.byteLength === 0) return;
    try {
      this.#reader.push(chunk);
    } catch {
      this.#socket.destroy();
    }
  }

  #answer(frame: Buffer): void {
    if (frame.byteLength < PUT_LANE_HEAD_BYTES) throw new Error('a put-lane answer shorter than its head');
    const kind = frame[0]!;
    const id = frame.readUInt32BE(1);
    const call = this.#pending.get(id);
    if (call === undefined) return;
    this.#pending.delete(id);
    const body = frame.subarray(PUT_LANE_HEAD_BYTES);
    if (kind === PUT_LANE_KINDS.result) {
      let response: PutPagesResponse__Output;
      try {
        response = this.#deserialize(body);
      } catch (error) {
        return call.reject(serviceError(grpc.status.INTERNAL, `a PutPages answer that does not decode: ${(error as Error).message}`));
      }
      return call.resolve(response);
    }
    if (kind === PUT_LANE_KINDS.error) return call.reject(parseError(body));
    throw new Error(`a put-lane answer of kind ${kind}`);
  }
}

/** `host:port` or `[v6]:port` as net.connect takes it; undefined for anything else (a `dns:` target, say: such members put over gRPC). */
function hostAndPort(endpoint: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(endpoint);
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

function metadataObject(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata.getMap())) if (typeof value === 'string') out[name] = value;
  return out;
}

/** An ERROR frame as the ServiceError grpc-js would have given for the same status. */
function parseError(body: Buffer): grpc.ServiceError {
  let parsed: { code?: unknown; details?: unknown; metadata?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    return serviceError(grpc.status.INTERNAL, 'a put-lane error answer that is no JSON');
  }
  const code = typeof parsed.code === 'number' ? parsed.code : grpc.status.UNKNOWN;
  const metadata = new grpc.Metadata();
  if (typeof parsed.metadata === 'object' && parsed.metadata !== null) {
    for (const [name, value] of Object.entries(parsed.metadata)) if (typeof value === 'string') metadata.set(name, value);
  }
  return serviceError(code, typeof parsed.details === 'string' ? parsed.details : '', metadata);
}

function serviceError(code: grpc.status, details: string, metadata = new grpc.Metadata()): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}
