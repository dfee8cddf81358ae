// The put lane: a client's PutPages calls over a TCP connection of their own on the member port,
// beside gRPC (the client's side: src/client put-lane.ts; docs/ARCHITECTURE.md, "Clients").
//
// Why: a put's bytes cross HTTP/2 twice before they reach the leader's log (the client's send, the
// leader's receive), in 16 KiB DATA frames each taken through Node's stream machinery and grpc-js;
// the appends to the followers left HTTP/2 for the socket lane (peer-socket.ts) for that reason.
// The same calls, with the same messages, outcomes and KVC_* codes, cost less over a plain socket
// (docs/BENCHMARKS.md, peers).
//
// The wire, after the 8-byte hello each way (PUT_LANE_HELLO; the sniffer in front of grpc-js,
// acceptPeerSockets, hands such a connection here): frames as gRPC frames a message (a compressed
// flag, always 0, and a 4-byte big-endian length), each holding a kind byte, a 4-byte call id the
// client picks, and the kind's body:
//   client → member  OPEN     JSON {"timeoutMs": n, "metadata": {name: value}} (the call's
//                             deadline, relative, and its gRPC metadata: authorization, traceparent)
//                    MESSAGE  one PutPagesRequest, protobuf, as on gRPC
//                    END      the client sent its last message (gRPC's half-close)
//                    CANCEL   the client gave up; nothing more is answered
//   member → client  RESULT   the PutPagesResponse, protobuf
//                    ERROR    JSON {"code": gRPC status, "details": text, "metadata": {name: value}}:
//                             what the gRPC call would have ended with (kvc-code and the rest)
// A call is answered once, by RESULT or ERROR. Calls on one connection run concurrently, as
// gRPC streams on one channel do; a client sends each message whole.
//
// A member that serves TLS turns the connection TLS right after the hello (its certificate; a
// client certificate asked for, not required, as on gRPC) and reads no frame before the handshake
// completed, so the lane never carries a token in the clear where TLS was asked for. Bad bytes (a
// frame too long or compressed, an unknown kind, a call id out of place, JSON or protobuf that
// does not decode) end the connection, never the member; every call still running on it is
// cancelled as a gRPC call whose client went away is.
import type net from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import {
  FrameReader,
  PUT_LANE_HEAD_BYTES,
  PUT_LANE_HELLO,
  PUT_LANE_KINDS,
  RECEIVE_ROOM_MESSAGE_BYTES_MIN,
  putLaneFrameHead,
  roomyMessageBuffer,
  type PutPagesRequest__Output as PutPagesRequest,
  type PutPagesResponse,
} from '../proto/index.js';
import { authorize } from './auth.js';
import { putPages } from './cache-service.js';
import { startCallSpan } from './call-tracing.js';
import type { MemberContext } from './member-context.js';
import type { SocketLane } from './peer-socket.js';
import { loadProtos } from './protos.js';

/** Messages received and not yet read by their calls, per connection, past which the connection is not read. */
const QUEUED_BYTES_MAX = 16 * 1024 * 1024;
/** Calls open at once on one connection, at most (a client keeps its puts in flight well below). */
const CALLS_PER_CONNECTION_MAX = 1024;
const METHOD = 'PutPages';

/** The member's TLS files, read at each new connection (a reload serves the new certificate). */
export type PutLanePem = () => { ca: Buffer; cert: Buffer; key: Buffer };

/**
 * A member's put lane, as acceptPeerSockets takes it (a SocketLane). With `pem` (the member serves
 * TLS) every connection turns TLS right after the hello, as gRPC on the same port is: the member's
 * certificate, a client certificate asked for and not required (clients prove who they are with
 * their token, as on gRPC), and no frame is read before the handshake completed. close() ends
 * every connection, as a member that stops ends its gRPC calls: a client then fails its calls with
 * UNAVAILABLE and goes on elsewhere, instead of asking a stopped member.
 */
export class PutLaneServer implements SocketLane {
  readonly hello = PUT_LANE_HELLO;
  readonly #ctx: MemberContext;
  readonly #pem: PutLanePem | undefined;
  readonly #sockets = new Set<net.Socket>();
  #tlsServer: { cert: Buffer; server: tls.Server } | undefined;
  #closed = false;

  constructor(ctx: MemberContext, pem?: PutLanePem) {
    this.#ctx = ctx;
    this.#pem = pem;
  }

  readonly accept = (socket: net.Socket): void => {
    socket.on('error', () => undefined);
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#track(socket);
    socket.setNoDelay(true);
    let helloLeft = PUT_LANE_HELLO.byteLength;
    const onHello = (chunk: Buffer): void => {
      // The sniffer saw the whole hello before handing the socket over.
      const skip = Math.min(helloLeft, chunk.byteLength);
      helloLeft -= skip;
      if (helloLeft > 0) return;
      socket.off('data', onHello);
      socket.write(PUT_LANE_HELLO);
      const rest = chunk.subarray(skip);
      if (this.#pem === undefined) {
        serveFrames(this.#ctx, socket, rest);
        return;
      }
      socket.pause();
      if (rest.byteLength > 0) socket.unshift(rest);
      this.#tlsServerFor(this.#pem()).emit('connection', socket);
    };
    socket.on('data', onHello);
    socket.resume();
  };

  close(): void {
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
  }

  /** A tls.Server of the lane's own that never listens, made again when the member's certificate was reloaded. */
  #tlsServerFor(pem: { ca: Buffer; cert: Buffer; key: Buffer }): tls.Server {
    if (this.#tlsServer?.cert !== pem.cert) {
      const server = tls.createServer({ ca: pem.ca, cert: pem.cert, key: pem.key, requestCert: true, rejectUnauthorized: false, handshakeTimeout: PUT_LANE_TLS_HANDSHAKE_MS });
      server.on('secureConnection', (secure: tls.TLSSocket) => {
        secure.on('error', () => undefined);
        if (this.#closed) return void secure.destroy();
        this.#track(secure);
        secure.setNoDelay(true);
        serveFrames(this.#ctx, secure, Buffer.alloc(0));
      });
      server.on('tlsClientError', (error: Error, secure: tls.TLSSocket) => {
        this.#ctx.log(`a put-lane connection from ${secure.remoteAddress ?? '?'}:${secure.remotePort ?? '?'} closed: ${error.message}`);
      });
      this.#tlsServer = { cert: pem.cert, server };
    }
    return this.#tlsServer.server;
  }
}

/** A TLS handshake on a put-lane connection must end within this. */
const PUT_LANE_TLS_HANDSHAKE_MS = 10_000;

/** Serves PutPages calls on an answered connection (plain or TLS) until it ends; `first` holds bytes already read. */
function serveFrames(ctx: MemberContext, socket: net.Socket, first: Buffer): void {
  const connection = new LaneConnection(ctx, socket);
  connection.push(first);
  socket.on('data', (data: Buffer) => connection.push(data));
  socket.on('close', () => connection.closed());
}

class LaneConnection {
  readonly #ctx: MemberContext;
  readonly #socket: net.Socket;
  readonly #reader: FrameReader;
  readonly #calls = new Map<number, LaneCall>();
  #queuedBytes = 0;
  #paused = false;

  constructor(ctx: MemberContext, socket: net.Socket) {
    this.#ctx = ctx;
    this.#socket = socket;
    // A large message is received into a buffer with room in front, as grpc-js' are (src/proto
    // receive-room.ts): a page that came in one message becomes the leader's Raft entry there.
    this.#reader = new FrameReader(
      LIMITS.rpc.clientMessageBytesMax + PUT_LANE_HEAD_BYTES,
      (frame) => this.#frame(frame),
      (length) => (length >= RECEIVE_ROOM_MESSAGE_BYTES_MIN ? roomyMessageBuffer(length) : undefined),
    );
  }

  push(chunk: Buffer): void {
    if (this.#socket.destroyed || chunk.byteLength === 0) return;
    try {
      this.#reader.push(chunk);
    } catch (error) {
      this.#ctx.log(`a put-lane connection from ${this.#socket.remoteAddress ?? '?'}:${this.#socket.remotePort ?? '?'} closed: ${(error as Error).message}`);
      this.#socket.destroy();
    }
  }

  /** The connection is gone: its calls are cancelled. */
  closed(): void {
    for (const call of this.#calls.values()) call.cancel();
    this.#calls.clear();
  }

  /** A call's messages were read: the connection may be read again. */
  dequeued(bytes: number): void {
    this.#queuedBytes -= bytes;
    if (this.#paused && this.#queuedBytes <= QUEUED_BYTES_MAX / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  /** Sends a call's answer (if the connection is still there) and forgets the call, with what it left unread. */
  answer(id: number, kind: number, body: Uint8Array): void {
    const call = this.#calls.get(id);
    this.#calls.delete(id);
    if (call !== undefined) this.dequeued(call.dropQueued());
    if (this.#socket.destroyed) return;
    this.#socket.cork();
    this.#socket.write(putLaneFrameHead(kind, id, body.byteLength));
    this.#socket.write(body);
    this.#socket.uncork();
  }

  #frame(frame: Buffer): void {
    if (frame.byteLength < PUT_LANE_HEAD_BYTES) throw new Error(`a frame of ${frame.byteLength} bytes, shorter than its kind and call id`);
    const kind = frame[0]!;
    const id = frame.readUInt32BE(1);
    const body = frame.subarray(PUT_LANE_HEAD_BYTES);
    const call = this.#calls.get(id);
    if (kind === PUT_LANE_KINDS.open) {
      if (call !== undefined) throw new Error(`call ${id} opened twice`);
      if (this.#calls.size >= CALLS_PER_CONNECTION_MAX) throw new Error(`more than ${CALLS_PER_CONNECTION_MAX} calls open at once`);
      const opened = new LaneCall(this.#ctx, this, id, parseOpen(body));
      this.#calls.set(id, opened);
      opened.run();
      return;
    }
    // A call answered early (an error) may still get the rest of its messages: they are dropped.
    if (call === undefined) {
      if (kind === PUT_LANE_KINDS.message || kind === PUT_LANE_KINDS.end || kind === PUT_LANE_KINDS.cancel) return;
      throw new Error(`a frame of kind ${kind}, which a client does not send`);
    }
    if (kind === PUT_LANE_KINDS.message) {
      this.#queuedBytes += body.byteLength;
      call.message(body);
      if (!this.#paused && this.#queuedBytes > QUEUED_BYTES_MAX) {
        this.#paused = true;
        this.#socket.pause();
      }
    } else if (kind === PUT_LANE_KINDS.end) {
      call.end();
    } else if (kind === PUT_LANE_KINDS.cancel) {
      this.#calls.delete(id);
      call.cancel();
      this.dequeued(call.dropQueued());
    } else {
      throw new Error(`a frame of kind ${kind}, which a client does not send`);
    }
  }
}

interface Open {
  timeoutMs: number;
  metadata: grpc.Metadata;
}

function parseOpen(body: Buffer): Open {
  const parsed = JSON.parse(body.toString('utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null) throw new Error('an OPEN frame that is no JSON object');
  const { timeoutMs, metadata } = parsed as { timeoutMs?: unknown; metadata?: unknown };
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error('an OPEN frame without a positive timeoutMs');
  const out = new grpc.Metadata();
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null) throw new Error('an OPEN frame whose metadata is no object');
    for (const [name, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new Error(`an OPEN frame whose metadata ${JSON.stringify(name)} is no string`);
      out.set(name, value);
    }
  }
  return { timeoutMs, metadata: out };
}

/** One PutPages call on a lane: its messages queued as they arrive, read by putPages in order. */
class LaneCall {
  readonly #ctx: MemberContext;
  readonly #connection: LaneConnection;
  readonly #id: number;
  readonly #open: Open;
  readonly #deadlineMs: number;
  readonly #queue: Buffer[] = [];
  #ended = false;
  #cancelled = false;
  /** The deadline passed before the client's last message came (gRPC's server ends such a call too). */
  #expired = false;
  #wake: (() => void) | undefined;

  constructor(ctx: MemberContext, connection: LaneConnection, id: number, open: Open) {
    this.#ctx = ctx;
    this.#connection = connection;
    this.#id = id;
    this.#open = open;
    this.#deadlineMs = Date.now() + open.timeoutMs;
  }

  message(body: Buffer): void {
    this.#queue.push(body);
    this.#wakeReader();
  }

  end(): void {
    this.#ended = true;
    this.#wakeReader();
  }

  cancel(): void {
    this.#cancelled = true;
    this.#wakeReader();
  }

  /** Forgets the messages nobody will read (the call was answered or cancelled); returns their bytes. */
  dropQueued(): number {
    let bytes = 0;
    for (const body of this.#queue) bytes += body.byteLength;
    this.#queue.length = 0;
    return bytes;
  }

  run(): void {
    const ctx = this.#ctx;
    const started = performance.now();
    const span = startCallSpan(ctx.tracing, METHOD, this.#open.metadata);
    const call = {
      metadata: this.#open.metadata,
      getDeadline: (): grpc.Deadline => this.#deadlineMs,
    };
    const work = (): Promise<PutPagesResponse> => {
      authorize(ctx, call, 'write');
      return putPages(ctx, {
        messages: this.#messages(),
        timeoutMs: () => ctx.timeoutMs(call),
        authorize: (namespace) => authorize(ctx, call, 'write', namespace),
      });
    };
    const expiry = setTimeout(() => {
      this.#expired = true;
      this.#wakeReader();
    }, this.#open.timeoutMs);
    expiry.unref();
    void Promise.resolve()
      .then(() => (span === undefined ? work() : span.run(work)))
      .finally(() => clearTimeout(expiry))
      .then(
        (response) => {
          ctx.callDone(METHOD, started, undefined, span);
          if (this.#cancelled) return;
          this.#connection.answer(this.#id, PUT_LANE_KINDS.result, loadProtos().cache.PutPages!.responseSerialize(response));
        },
        (error: unknown) => {
          if (this.#cancelled) return ctx.callDone(METHOD, started, 'CANCELLED', span);
          const serviceError = ctx.serviceError(error, METHOD);
          ctx.callDone(METHOD, started, serviceError, span);
          const answer = { code: serviceError.code, details: serviceError.details, metadata: stringMap(serviceError.metadata) };
          this.#connection.answer(this.#id, PUT_LANE_KINDS.error, Buffer.from(JSON.stringify(answer), 'utf8'));
        },
      );
  }

  /** The call's messages, decoded as gRPC decodes them; throws once the call was cancelled or the connection lost. */
  async *#messages(): AsyncGenerator<PutPagesRequest> {
    const deserialize = loadProtos().cache.PutPages!.requestDeserialize;
    for (;;) {
      // Nobody is answered any more (run() checks): this only stops the reading loop.
      if (this.#cancelled) throw new Error('the client cancelled the put, or its put-lane connection closed');
      if (this.#expired) throw new KvcError('KVC_DEADLINE_EXCEEDED', { detail: "the put's deadline passed before its last message came" });
      const body = this.#queue.shift();
      if (body !== undefined) {
        this.#connection.dequeued(body.byteLength);
        let message: PutPagesRequest;
        try {
          message = deserialize(body) as PutPagesRequest;
        } catch (error) {
          throw new KvcError('KVC_MALFORMED_REQUEST', { detail: `a PutPages message that does not decode: ${(error as Error).message}` });
        }
        yield message;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function stringMap(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata.getMap())) out[name] = typeof value === 'string' ? value : value.toString('base64');
  return out;
}
