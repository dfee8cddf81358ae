// PeerService, receiving side (peer.proto): Raft batches and snapshot streams from other members,
// handed to the local member through the handler registered on the GrpcTransport.
//
// Everything here comes off the network, so nothing is trusted: a message that does not decode,
// is of a local-only type, is not addressed to this member, or claims another sender than its
// batch is dropped and counted (peers and raw TCP clients alike may send anything); it never
// throws out of a handler. A batch or snapshot from a sender that is neither in the applied
// configuration nor in the address book is refused with KVC_UNKNOWN_PEER and ends its stream, so
// a stranger's higher term never reaches Raft. A member that knows no configuration yet (a
// joiner) takes every sender: it learns the configuration from the leader's messages. What a
// plaintext sender can still do by claiming a member's id is what mTLS prevents (docs/FUZZ.md).
//
// In a TLS cluster a call must first show a member's certificate (auth.ts authorizePeer): a call
// without one, or with one that names no member of the configuration, is answered with its coded
// error and closed before anything is read; a batch whose sender is not a member id its
// certificate names is dropped, and such a snapshot refused.
//
// A leader's appends arrive here on the socket lane (peer-socket.ts; acceptSocket) rather than on
// PeerService.Raft: the same batches, checked the same way, on a connection of their own.
import type net from 'node:net';
import tls from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import { decodeMessage } from '../codec/index.js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { MessageType, NONE, isLocalMessage, type Message } from '../raft/index.js';
import type { SnapshotChunk } from '../store/index.js';
import type { GrpcTransport } from './grpc-transport.js';
import { authorizePeer } from './auth.js';
import { clientStream } from './handlers.js';
import { PEER_SOCKET_HELLO, PEER_SOCKET_KEEPALIVE_MS, PEER_SOCKET_READY_MS } from './peer-socket.js';
import { loadProtos } from './protos.js';
import type { MemberContext } from './member-context.js';
import { FrameReader, type RaftAck, type RaftBatch__Output as RaftBatchIn, type SnapshotAck, type SnapshotPart__Output as SnapshotPartIn } from '../proto/index.js';

/** At most one log line per this interval about rejected peer messages. */
const REJECT_LOG_INTERVAL_MS = 5_000;

export class PeerService {
  readonly #ctx: MemberContext;
  readonly #transport: GrpcTransport;
  /** Open inbound Raft streams and how to answer each; ended on shutdown so the server can close. */
  readonly #streams = new Map<grpc.ServerReadableStream<RaftBatchIn, RaftAck>, () => void>();
  /** Open inbound socket-lane connections; closed on shutdown. */
  readonly #sockets = new Set<net.Socket>();
  /** What takes the TLS handshake of socket-lane connections in a TLS cluster, and for which certificate. */
  #tlsServer: { cert: Buffer; server: tls.Server } | undefined;
  #lastRejectLogMs = -Infinity;

  constructor(ctx: MemberContext, transport: GrpcTransport) {
    this.#ctx = ctx;
    this.#transport = transport;
  }

  handlers(): grpc.UntypedServiceImplementation {
    return {
      Raft: this.#raft,
      Snapshot: clientStream<SnapshotPartIn, SnapshotAck>(this.#ctx, 'PeerService.Snapshot', (call) =>
        receiveSnapshot(this.#transport, call, this.#knowsSender, authorizePeer(this.#ctx, call)),
      ),
    };
  }

  /**
   * Answers every open inbound Raft stream. Peers keep those streams open for as long as both
   * members run, so a graceful server shutdown would otherwise wait for its whole grace period.
   */
  endStreams(): void {
    for (const finish of [...this.#streams.values()]) finish();
    for (const socket of [...this.#sockets]) socket.destroy();
  }

  readonly #raft: grpc.handleClientStreamingCall<RaftBatchIn, RaftAck> = (call, callback) => {
    let senders: ReadonlySet<number> | undefined;
    try {
      senders = authorizePeer(this.#ctx, call);
    } catch (error) {
      call.on('error', () => undefined);
      this.#reject(`a Raft stream from ${call.getPeer()} refused: ${(error as Error).message}`);
      return callback(this.#ctx.serviceError(error, 'PeerService.Raft'));
    }
    let answered = false;
    const finish = (): void => {
      this.#streams.delete(call);
      if (answered) return;
      answered = true;
      callback(null, {});
    };
    this.#streams.set(call, finish);
    call.on('error', () => undefined);
    call.on('close', () => this.#streams.delete(call));
    call.on('data', (batch: RaftBatchIn) => {
      if (answered) return;
      if (senders !== undefined && !senders.has(batch.from)) return this.#reject(`a batch from member ${batch.from} on a stream whose certificate names ${[...senders].join(', ')}`);
      if (this.#deliver(batch)) return;
      this.#streams.delete(call);
      answered = true;
      const error = new KvcError('KVC_UNKNOWN_PEER', { detail: `member ${batch.from} sent a Raft batch to member ${this.#ctx.id}` });
      callback(this.#ctx.serviceError(error, 'PeerService.Raft'));
    });
    call.on('end', finish);
  };

  /**
   * A socket-lane connection (peer-socket.ts), its hello still unread: answers the hello, then
   * (in a TLS cluster: after a TLS handshake in which the sender shows a member's certificate, as
   * a gRPC peer call must) hands each batch on as the gRPC stream does. A frame that is malformed
   * or too long, a batch that does not decode, one from a sender this member does not know, or a
   * failed handshake ends the connection (the sender reconnects; Raft resends what was lost); a
   * batch whose sender the certificate does not name is dropped, as on gRPC.
   */
  readonly acceptSocket = (socket: net.Socket, pem?: { ca: Buffer; cert: Buffer; key: Buffer }): void => {
    const from = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#track(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, PEER_SOCKET_KEEPALIVE_MS);
    let helloLeft = PEER_SOCKET_HELLO.byteLength;
    const onHello = (chunk: Buffer): void => {
      // The sniffer saw the whole hello before handing the socket over.
      const skip = Math.min(helloLeft, chunk.byteLength);
      helloLeft -= skip;
      if (helloLeft > 0) return;
      const rest = chunk.subarray(skip);
      socket.off('data', onHello);
      socket.write(PEER_SOCKET_HELLO);
      if (pem === undefined) {
        this.#readFrames(socket, from, undefined).push(rest);
        return;
      }
      socket.pause();
      if (rest.byteLength > 0) socket.unshift(rest);
      this.#startTls(socket, pem);
    };
    socket.on('data', onHello);
    socket.resume();
  };

  /**
   * TLS on an answered socket-lane connection, through a tls.Server of this service's own that
   * never listens: a TLSSocket made by hand would complete its handshake with a certificate the
   * CA did not sign (only a tls.Server refuses it). The server is made again when the member's
   * certificate was reloaded.
   */
  #startTls(socket: net.Socket, pem: { ca: Buffer; cert: Buffer; key: Buffer }): void {
    if (this.#tlsServer?.cert !== pem.cert) {
      const server = tls.createServer({ ca: pem.ca, cert: pem.cert, key: pem.key, requestCert: true, rejectUnauthorized: true, handshakeTimeout: PEER_SOCKET_READY_MS });
      server.on('secureConnection', (secure: tls.TLSSocket) => {
        const from = `${secure.remoteAddress ?? '?'}:${secure.remotePort ?? '?'}`;
        this.#track(secure);
        let senders: ReadonlySet<number> | undefined;
        try {
          senders = authorizePeer(this.#ctx, { getAuthContext: () => ({ sslPeerCertificate: secure.getPeerCertificate() }) });
        } catch (error) {
          this.#reject(`a socket-lane connection from ${from} closed: ${(error as Error).message}`);
          secure.destroy();
          return;
        }
        this.#readFrames(secure, from, senders);
      });
      server.on('tlsClientError', (error: Error, secure: tls.TLSSocket) => {
        this.#reject(`a socket-lane connection from ${secure.remoteAddress ?? '?'}:${secure.remotePort ?? '?'} closed: ${error.message}`);
      });
      this.#tlsServer = { cert: pem.cert, server };
    }
    this.#tlsServer.server.emit('connection', socket);
  }

  /** Reads batches off an answered socket-lane connection; the returned reader may be given bytes already read. */
  #readFrames(socket: net.Socket, from: string, senders: ReadonlySet<number> | undefined): { push(chunk: Buffer): void } {
    const method = loadProtos().peer.Raft!;
    const reader = new FrameReader(LIMITS.rpc.peerMessageBytesMax, (message) => {
      let batch: RaftBatchIn;
      try {
        batch = method.requestDeserialize(message) as RaftBatchIn;
      } catch (error) {
        throw new Error(`a batch that does not decode: ${(error as Error).message}`);
      }
      if (senders !== undefined && !senders.has(batch.from)) return this.#reject(`a batch from member ${batch.from} on a connection whose certificate names ${[...senders].join(', ')}`);
      if (!this.#deliver(batch)) throw new Error(`member ${batch.from}, which is not in the configuration, sent a Raft batch`);
    });
    const push = (chunk: Buffer): void => {
      if (socket.destroyed || chunk.byteLength === 0) return;
      try {
        reader.push(chunk);
      } catch (error) {
        this.#reject(`a socket-lane connection from ${from} closed: ${(error as Error).message}`);
        socket.destroy();
      }
    };
    socket.on('data', push);
    return { push };
  }

  /** Keeps an inbound socket-lane connection for endStreams(); its errors end it, 'close' forgets it. */
  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  /** Hands a batch to the local member; false (and counted) when its sender is not known here. */
  #deliver(batch: RaftBatchIn): boolean {
    if (!this.#knowsSender(batch.from)) {
      this.#reject(`a batch from member ${batch.from}, which is not in the configuration`);
      return false;
    }
    try {
      receiveBatch(this.#transport, batch, this.#reject);
    } catch (error) {
      // A bug in delivery must not take the member down; it is logged and the batch dropped.
      this.#reject(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    return true;
  }

  /** Whether `id` may send this member Raft traffic (see the file comment). */
  readonly #knowsSender = (id: number): boolean => {
    // Not started: its messages are dropped as "not serving" anyway.
    const configuration = this.#ctx.node?.configuration();
    if (configuration === undefined) return true;
    if (configuration.voters.length === 0 && configuration.learners.length === 0) return true;
    return configuration.voters.includes(id) || configuration.learners.includes(id) || this.#transport.addresses.get(id) !== undefined;
  };

  readonly #reject = (why: string): void => {
    const counters = this.#transport.counters;
    counters.rejected++;
    const now = performance.now();
    if (now - this.#lastRejectLogMs < REJECT_LOG_INTERVAL_MS) return;
    this.#lastRejectLogMs = now;
    this.#ctx.log(`member ${this.#ctx.id} dropped a peer message: ${why} (${counters.rejected} dropped so far)`);
  };
}

function receiveBatch(transport: GrpcTransport, batch: RaftBatchIn, reject: (why: string) => void): void {
  const localId = transport.localId;
  if (batch.accessReport.byteLength > 0) {
    const handler = localId === undefined || batch.to !== localId ? undefined : transport.handlerFor(localId);
    // The node decodes and checks the report; one from an unknown or bogus sender changes only
    // this member's recency hints, never replicated state.
    if (handler === undefined || batch.from === NONE || batch.from === localId) reject('an access report not addressed to this member');
    else handler.onAccessReport(batch.from, batch.accessReport);
  }
  for (const bytes of batch.messages) {
    const m = decodeOrUndefined(bytes);
    const why = m === undefined ? 'undecodable bytes' : invalidReason(m, localId, batch);
    if (why !== undefined) {
      reject(why);
      continue;
    }
    // A member restarted from a snapshot may not know a newer peer's address; it learns it here.
    if (batch.fromAddress !== '') transport.addresses.learn(batch.from, batch.fromAddress);
    const handler = transport.handlerFor(m!.to);
    if (handler === undefined) {
      reject(`member ${m!.to} is not serving`);
      continue;
    }
    transport.counters.received++;
    handler.onMessage(m!);
  }
}

function decodeOrUndefined(bytes: Uint8Array): Message | undefined {
  try {
    return decodeMessage(bytes);
  } catch {
    return undefined;
  }
}

function invalidReason(m: Message, localId: number | undefined, batch: { from: number; to: number }): string | undefined {
  if (isLocalMessage(m.type)) return `local-only message type ${MessageType[m.type]}`;
  if (m.type === MessageType.Snap) return 'a snapshot message outside a snapshot stream';
  if (m.to !== localId || m.to !== batch.to) return `addressed to member ${m.to}, this is member ${localId ?? 'none'}`;
  if (m.from === NONE || m.from !== batch.from || m.from === localId) return `claims sender ${m.from} in a batch from ${batch.from}`;
  // Raft steps a term-0 message as a local one; only forwarded proposals and reads travel without a term.
  if (m.term === 0 && m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) return `${MessageType[m.type]} without a term`;
  return undefined;
}

/** Hands the stream to the node as SnapshotChunks; answers installed once the node installed it. */
async function receiveSnapshot(
  transport: GrpcTransport,
  call: grpc.ServerReadableStream<SnapshotPartIn, SnapshotAck>,
  knowsSender: (id: number) => boolean,
  senders: ReadonlySet<number> | undefined,
): Promise<SnapshotAck> {
  const parts = call.iterator({ destroyOnReturn: false }) as AsyncIterator<SnapshotPartIn>;
  const first = await parts.next();
  if (first.done === true) throw new KvcError('KVC_SNAPSHOT_INVALID', { detail: 'empty snapshot stream' });
  const message = decodeMessage(first.value.message);
  const localId = transport.localId;
  if (message.type !== MessageType.Snap || message.to !== localId || message.from === NONE || message.from === localId) {
    throw new KvcError('KVC_SNAPSHOT_INVALID', { detail: `first part carries ${MessageType[message.type]} from ${message.from} to ${message.to}` });
  }
  if (!knowsSender(message.from)) throw new KvcError('KVC_UNKNOWN_PEER', { detail: `member ${message.from} sent a snapshot to member ${localId}` });
  if (senders !== undefined && !senders.has(message.from)) {
    throw new KvcError('KVC_PERMISSION_DENIED', { detail: `a snapshot from member ${message.from} on a stream whose certificate names ${[...senders].join(', ')}` });
  }
  const handler = transport.handlerFor(message.to);
  if (handler === undefined) throw new KvcError('KVC_NO_LEADER', { detail: `member ${message.to} is not serving` });
  await handler.onSnapshot(message, chunksOf(first.value, parts));
  return { installed: true };
}

async function* chunksOf(first: SnapshotPartIn, rest: AsyncIterator<SnapshotPartIn>): AsyncGenerator<SnapshotChunk> {
  yield toChunk(first);
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    yield toChunk(next.value);
  }
}

function toChunk(part: SnapshotPartIn): SnapshotChunk {
  if (part.data.byteLength > LIMITS.page.chunkBytes) {
    throw new KvcError('KVC_SNAPSHOT_INVALID', { detail: `part ${part.seq} carries ${part.data.byteLength} bytes, at most ${LIMITS.page.chunkBytes}` });
  }
  const chunk: SnapshotChunk = { seq: part.seq, data: part.data, crc32c: part.crc32c, last: part.last };
  if (part.last) {
    chunk.totalCrc32c = part.totalCrc32c;
    chunk.appliedIndex = part.appliedIndex;
  }
  return chunk;
}
