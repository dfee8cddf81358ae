// The socket lane: a leader's appends to a follower over a TCP connection of their own (with
// mutual TLS in a TLS cluster), instead of a gRPC stream.
//
// Why: appends are most of the bytes a cluster moves (each acknowledged MiB goes to two
// followers), and HTTP/2 framing and grpc-js' stream machinery cost CPU per byte that a plain
// socket does not. The read side of `npm run bench -- peers` measured, per MiB between two
// processes: raw TCP 0.16 ms to send and 0.83 ms to receive, grpc-js 1.04 ms and 1.72 ms
// (docs/BENCHMARKS.md, "Where a put's CPU goes"). Everything else between members (heartbeats,
// votes, responses, snapshots, access reports) stays on gRPC.
//
// The wire: the sender connects to the follower's member address (the one gRPC uses, so the
// chaos harness' proxies cover this lane as they cover gRPC) and writes PEER_SOCKET_HELLO; the
// follower answers with the same 8 bytes. In a TLS cluster the sender then starts a TLS handshake,
// mutual as on the gRPC peer channels (its certificate; the follower's must chain to the CA and
// name the dialled host and the member id; PeerService checks the sender's as for a gRPC peer
// call). Then come RaftBatch messages (peer.proto) framed as gRPC frames them: a compressed flag
// (always 0) and a 4-byte big-endian length before each. The follower sends nothing else.
//
// The member's port serves both: acceptPeerSockets() looks at the first bytes of every connection
// to the gRPC server and keeps those that start with the hello; every other connection goes to
// grpc-js untouched (an HTTP/2 client sends its 24-byte preface first).
//
// A member of an older build answers the hello with HTTP/2 bytes (its SETTINGS frame) and closes:
// the sender sees the refusal and goes back to the gRPC bulk lane for that peer for a while
// (grpc-transport.ts). A connection not ready PEER_SOCKET_READY_MS after it was opened is given up.
//
// Raft tolerates loss, so a failed connection loses what it held and the transport opens another
// after a backoff. A connection whose writes make no progress for PEER_SOCKET_STALL_MS (a peer
// that stopped reading, a link that silently drops everything) is torn down, as gRPC's
// keepalive would tear down its channel.
//
// grpc-js has no public hook for the first bytes of a connection: its listening HTTP/2 servers
// (the internal `http2Servers` map, grpc-js 1.14) get a 'connection' listener of ours in front of
// theirs. acceptPeerSockets() throws where that map is missing, and test/rpc/peer-socket.test.ts
// fails, so a grpc-js update that moves it does not pass unnoticed.
import net from 'node:net';
import tls from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import { parseAddress } from '../config/index.js';
import { framedPieces } from '../proto/index.js';
import type { NodeId } from '../raft/index.js';
import { memberIdentityCheck } from './tls.js';
import { serializeRaftBatch, type OutgoingRaftBatch } from './raft-batch-codec.js';

/** What a socket-lane connection starts with, both ways. Neither an HTTP/2 preface nor TLS starts so. */
export const PEER_SOCKET_HELLO = Buffer.from('KVCRAFT1', 'latin1');
/** A connection whose oldest unfinished write made no progress this long is torn down. */
export const PEER_SOCKET_STALL_MS = 15_000;
/** TCP keepalive on both ends (PeerService sets it on the accepted end): a peer that vanished is noticed by the kernel. */
export const PEER_SOCKET_KEEPALIVE_MS = 10_000;
/** A connection not ready this long after it was opened (no hello answered, no TLS) is given up. */
export const PEER_SOCKET_READY_MS = 10_000;
/** How often a connection checks itself for a stall. */
const STALL_CHECK_MS = 1_000;

/**
 * Puts a sniffer in front of `server`'s listening sockets (call after bindAsync): a connection
 * that starts with PEER_SOCKET_HELLO goes to `accept`, one that starts with another of `others`'
 * hellos (the put lane's, put-lane.ts) to that one's accept, hello still unread; every other one
 * to grpc-js, with the bytes read so far put back. A connection closed before it said which is
 * dropped. Throws where this grpc-js keeps its listening servers elsewhere.
 */
export function acceptPeerSockets(server: grpc.Server, accept: (socket: net.Socket) => void, others: readonly SocketLane[] = []): void {
  const listening = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(listening instanceof Map) || listening.size === 0) {
    throw new Error('this grpc-js keeps no http2Servers map of listening servers: the socket lane cannot share the member port (see src/rpc/peer-socket.ts)');
  }
  const lanes: readonly SocketLane[] = [{ hello: PEER_SOCKET_HELLO, accept }, ...others];
  for (const http2Server of listening.keys() as IterableIterator<net.Server>) {
    const theirs = http2Server.listeners('connection') as ((socket: net.Socket) => void)[];
    http2Server.removeAllListeners('connection');
    http2Server.on('connection', (socket: net.Socket) => {
      sniff(socket, lanes, (lane) => {
        if (lane !== undefined) lane.accept(socket);
        else for (const listener of theirs) listener.call(http2Server, socket);
      });
    });
  }
}

/** A protocol of our own on the member port: the bytes its connections start with, and who takes them. */
export interface SocketLane {
  /** As long as PEER_SOCKET_HELLO (8 bytes), which is as far as the sniffer looks. */
  hello: Buffer;
  accept(socket: net.Socket): void;
}

function sniff(socket: net.Socket, lanes: readonly SocketLane[], decide: (lane: SocketLane | undefined) => void): void {
  let seen: Buffer | undefined;
  const onData = (chunk: Buffer): void => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.byteLength, PEER_SOCKET_HELLO.byteLength);
    const candidates = lanes.filter((lane) => seen!.subarray(0, compared).equals(lane.hello.subarray(0, compared)));
    if (candidates.length > 0 && compared < PEER_SOCKET_HELLO.byteLength) return;
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.pause();
    socket.unshift(seen);
    decide(candidates[0]);
  };
  const onClose = (): void => {
    socket.off('data', onData);
    socket.destroy();
  };
  socket.on('data', onData);
  socket.on('close', onClose);
  // An error closes the socket; 'close' cleans up.
  socket.on('error', () => undefined);
}

/**
 * How a sending connection ended. `refused`: the peer answered the hello with something else;
 * `unsent`: the batches written before the peer answered, never sent (the caller may send them
 * another way).
 */
export interface PeerSocketEnd {
  error: Error | null;
  refused: boolean;
  unsent: OutgoingRaftBatch[];
}

/** TLS of a socket-lane connection: the member's own files, and the peer id the far end must prove. */
export interface PeerSocketTls {
  pem: { ca: Buffer; cert: Buffer; key: Buffer };
  peerId: NodeId;
}

export interface PeerSocketOptions {
  /** Default PEER_SOCKET_STALL_MS (tests shorten it). */
  stallMs?: number;
  /** Mutual TLS after the hello, as the gRPC peer channels have it; default: plaintext. */
  tls?: PeerSocketTls;
  /** Called once the lane is ready. */
  onReady?: () => void;
}

/**
 * The sending end of one socket-lane connection: connects at once and writes the hello; batches
 * written before the lane is ready (the peer answered the hello and, with TLS, the handshake
 * completed) wait here, then go out in order, each as grpc-js' client stream takes them
 * (`write(batch, done)`; `done` once the bytes are handed on). `onEnd` runs once, when the
 * connection is gone for whatever reason.
 */
export class PeerSocketStream {
  readonly #socket: net.Socket;
  readonly #onEnd: (end: PeerSocketEnd) => void;
  readonly #onReady: (() => void) | undefined;
  readonly #stallTimer: NodeJS.Timeout;
  readonly #readyTimer: NodeJS.Timeout;
  /** Where batches go once the lane is ready: the socket, or the TLS socket over it. */
  #out: net.Socket | undefined;
  #tlsSocket: tls.TLSSocket | undefined;
  #helloSeen = 0;
  #refused = false;
  /** Batches written before the lane was ready, with their callbacks. */
  #waiting: { batch: OutgoingRaftBatch; done: () => void }[] = [];
  #ended = false;
  /** Writes whose callback has not run, and when one last completed (or the first was made). */
  #pending = 0;
  #progressAtMs = 0;

  constructor(address: string, onEnd: (end: PeerSocketEnd) => void, options: PeerSocketOptions = {}) {
    this.#onEnd = onEnd;
    this.#onReady = options.onReady;
    const stallMs = options.stallMs ?? PEER_SOCKET_STALL_MS;
    const parsed = parseAddress(address);
    const host = parsed?.host.replace(/^\[(.*)\]$/, '$1') ?? '';
    this.#socket = net.connect({ host, port: parsed?.port ?? 0, noDelay: true, keepAlive: true, keepAliveInitialDelay: PEER_SOCKET_KEEPALIVE_MS });
    const onData = (chunk: Buffer): void => {
      if (!this.#onHello(chunk)) return;
      if (options.tls === undefined) return this.#becomeReady(this.#socket);
      this.#socket.off('data', onData);
      this.#startTls(host, options.tls);
    };
    this.#socket.on('data', onData);
    this.#socket.on('error', (error) => this.#end(error));
    this.#socket.on('close', () => this.#end(null));
    this.#stallTimer = setInterval(() => {
      if (this.#pending > 0 && performance.now() - this.#progressAtMs > stallMs) this.#destroy(new Error(`no write completed for ${stallMs} ms`));
    }, Math.min(STALL_CHECK_MS, stallMs));
    this.#stallTimer.unref();
    this.#readyTimer = setTimeout(() => {
      if (this.#out === undefined) this.#destroy(new Error(`the peer did not answer the hello${options.tls === undefined ? '' : ' and complete TLS'} within ${PEER_SOCKET_READY_MS} ms`));
    }, PEER_SOCKET_READY_MS);
    this.#readyTimer.unref();
    if (parsed === undefined) {
      this.#socket.destroy(new Error(`not a host:port address: ${JSON.stringify(address)}`));
      return;
    }
    this.#socket.write(PEER_SOCKET_HELLO);
  }

  /** Whether the lane is ready: the peer answered the hello (and, with TLS, proved its identity). */
  get ready(): boolean {
    return this.#out !== undefined;
  }

  /** Writes `batch` (as one frame, its large runs by reference); `done` runs once it is written or the connection is gone. */
  write(batch: OutgoingRaftBatch, done: () => void): void {
    if (this.#out === undefined) {
      this.#waiting.push({ batch, done });
      return;
    }
    this.#send(this.#out, batch, done);
  }

  /** Closes the connection once what was written has left. */
  end(): void {
    (this.#out ?? this.#socket).end();
  }

  #send(out: net.Socket, batch: OutgoingRaftBatch, done: () => void): void {
    const pieces = framedPieces(serializeRaftBatch(batch));
    if (this.#pending === 0) this.#progressAtMs = performance.now();
    this.#pending++;
    out.cork();
    for (let i = 0; i < pieces.length - 1; i++) out.write(pieces[i]!);
    out.write(pieces[pieces.length - 1]!, () => {
      this.#pending--;
      this.#progressAtMs = performance.now();
      done();
    });
    out.uncork();
  }

  /** Reads the peer's hello; true once it is whole (and nothing follows it). A peer that says anything else refused the lane. */
  #onHello(chunk: Buffer): boolean {
    let at = 0;
    while (at < chunk.byteLength && this.#helloSeen < PEER_SOCKET_HELLO.byteLength) {
      if (chunk[at] !== PEER_SOCKET_HELLO[this.#helloSeen]) {
        this.#refused = true;
        this.#destroy(new Error('the peer does not speak the socket lane (an older member?)'));
        return false;
      }
      at++;
      this.#helloSeen++;
    }
    if (at < chunk.byteLength) {
      this.#destroy(new Error('the peer sent bytes after its hello'));
      return false;
    }
    return this.#helloSeen === PEER_SOCKET_HELLO.byteLength;
  }

  /** TLS over the answered socket: our certificate, and the peer's must chain to the CA, name the dialled host and the member. */
  #startTls(host: string, options: PeerSocketTls): void {
    const secure = tls.connect({
      socket: this.#socket,
      host,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      ca: options.pem.ca,
      cert: options.pem.cert,
      key: options.pem.key,
      checkServerIdentity: memberIdentityCheck(options.peerId),
    });
    this.#tlsSocket = secure;
    secure.on('secureConnect', () => this.#becomeReady(secure));
    secure.on('data', () => this.#destroy(new Error('the peer sent bytes over TLS')));
    secure.on('error', (error) => this.#end(error));
    secure.on('close', () => this.#end(null));
  }

  #becomeReady(out: net.Socket): void {
    clearTimeout(this.#readyTimer);
    this.#out = out;
    this.#onReady?.();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const { batch, done } of waiting) this.#send(out, batch, done);
  }

  #destroy(error: Error): void {
    (this.#tlsSocket ?? this.#socket).destroy(error);
  }

  #end(error: Error | null): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#stallTimer);
    clearTimeout(this.#readyTimer);
    this.#tlsSocket?.destroy();
    this.#socket.destroy();
    const unsent = this.#waiting.map(({ batch }) => batch);
    this.#waiting = [];
    this.#onEnd({ error, refused: this.#refused, unsent });
  }
}
