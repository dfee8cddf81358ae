// The socket lane: a leader's appends to a follower over a plain TCP connection of their own,
// instead of a gRPC stream, in a plaintext cluster.
//
// Why: appends are most of the bytes a cluster moves (each acknowledged MiB goes to two
// followers), and HTTP/2 framing and grpc-js' stream machinery cost CPU per byte that a plain
// socket does not. The read side of `npm run bench -- peers` measured, per MiB between two
// processes: raw TCP 0.16 ms to send and 0.83 ms to receive, grpc-js 1.04 ms and 1.72 ms
// (docs/BENCHMARKS.md, "Where a put's CPU goes"). Everything else between members (heartbeats,
// votes, responses, snapshots, access reports) stays on gRPC.
//
// The wire: the sender connects to the follower's member address (the one gRPC uses, so the
// chaos harness' proxies cover this lane as they cover gRPC) and writes PEER_SOCKET_HELLO, then
// RaftBatch messages (peer.proto) framed as gRPC frames them: a compressed flag (always 0) and a
// 4-byte big-endian length before each. The follower answers the hello with the same 8 bytes,
// and sends nothing else. The member's port serves both: acceptPeerSockets() looks at the first
// bytes of every connection to the gRPC server and keeps those that start with the hello; every
// other connection goes to grpc-js untouched (an HTTP/2 client sends its 24-byte preface first).
//
// A member of an older build answers the hello with HTTP/2 bytes (its SETTINGS frame) and closes:
// the sender sees the refusal and goes back to the gRPC bulk lane for that peer for a while
// (grpc-transport.ts). TLS clusters keep gRPC for appends: the lane has no TLS of its own yet.
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
import type * as grpc from '@grpc/grpc-js';
import { parseAddress } from '../config/index.js';
import { FRAME_HEADER_BYTES, framedPieces } from '../proto/index.js';
import { serializeRaftBatch, type OutgoingRaftBatch } from './raft-batch-codec.js';

/** What a socket-lane connection starts with, both ways. Neither an HTTP/2 preface nor TLS starts so. */
export const PEER_SOCKET_HELLO = Buffer.from('KVCRAFT1', 'latin1');
/** A connection whose oldest unfinished write made no progress this long is torn down. */
export const PEER_SOCKET_STALL_MS = 15_000;
/** TCP keepalive on both ends: a peer that vanished is noticed by the kernel. */
const KEEPALIVE_MS = 10_000;
/** How often a connection checks itself for a stall. */
const STALL_CHECK_MS = 1_000;

/**
 * Puts a sniffer in front of `server`'s listening sockets (call after bindAsync): a connection
 * that starts with PEER_SOCKET_HELLO goes to `accept`, hello still unread; every other one to
 * grpc-js, with the bytes read so far put back. A connection closed before it said which is
 * dropped. Throws where this grpc-js keeps its listening servers elsewhere.
 */
export function acceptPeerSockets(server: grpc.Server, accept: (socket: net.Socket) => void): void {
  const listening = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(listening instanceof Map) || listening.size === 0) {
    throw new Error('this grpc-js keeps no http2Servers map of listening servers: the socket lane cannot share the member port (see src/rpc/peer-socket.ts)');
  }
  for (const http2Server of listening.keys() as IterableIterator<net.Server>) {
    const theirs = http2Server.listeners('connection') as ((socket: net.Socket) => void)[];
    http2Server.removeAllListeners('connection');
    http2Server.on('connection', (socket: net.Socket) => {
      sniff(socket, (isPeer) => {
        if (isPeer) accept(socket);
        else for (const listener of theirs) listener.call(http2Server, socket);
      });
    });
  }
}

function sniff(socket: net.Socket, decide: (isPeer: boolean) => void): void {
  let seen: Buffer | undefined;
  const onData = (chunk: Buffer): void => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.byteLength, PEER_SOCKET_HELLO.byteLength);
    const isPeer = seen.subarray(0, compared).equals(PEER_SOCKET_HELLO.subarray(0, compared));
    if (isPeer && compared < PEER_SOCKET_HELLO.byteLength) return;
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.pause();
    socket.unshift(seen);
    decide(isPeer);
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
 * Reads gRPC-framed messages off a byte stream: `onMessage` gets each message whole (a view into
 * the chunk it arrived in when it arrived in one, else a buffer of its own). Throws on a
 * compressed flag or a length over `bytesMax`; the reader is then unusable.
 */
export class FrameReader {
  readonly #bytesMax: number;
  readonly #onMessage: (message: Buffer) => void;
  readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerHave = 0;
  #body: Buffer | undefined;
  #bodyHave = 0;

  constructor(bytesMax: number, onMessage: (message: Buffer) => void) {
    this.#bytesMax = bytesMax;
    this.#onMessage = onMessage;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#body === undefined) {
        if (this.#headerHave === 0 && chunk.byteLength - at >= FRAME_HEADER_BYTES) {
          const length = this.#length(chunk, at);
          at += FRAME_HEADER_BYTES;
          if (chunk.byteLength - at >= length) {
            this.#onMessage(chunk.subarray(at, at + length));
            at += length;
            continue;
          }
          this.#startBody(length);
          continue;
        }
        const take = Math.min(FRAME_HEADER_BYTES - this.#headerHave, chunk.byteLength - at);
        chunk.copy(this.#header, this.#headerHave, at, at + take);
        this.#headerHave += take;
        at += take;
        if (this.#headerHave < FRAME_HEADER_BYTES) return;
        this.#headerHave = 0;
        this.#startBody(this.#length(this.#header, 0));
        continue;
      }
      const body = this.#body;
      const take = Math.min(body.byteLength - this.#bodyHave, chunk.byteLength - at);
      chunk.copy(body, this.#bodyHave, at, at + take);
      this.#bodyHave += take;
      at += take;
      if (this.#bodyHave === body.byteLength) {
        this.#body = undefined;
        this.#onMessage(body);
      }
    }
  }

  #length(bytes: Buffer, at: number): number {
    if (bytes[at] !== 0) throw new Error(`a frame with compressed flag ${bytes[at]}: the socket lane sends none compressed`);
    const length = bytes.readUInt32BE(at + 1);
    if (length > this.#bytesMax) throw new Error(`a frame of ${length} bytes, at most ${this.#bytesMax}`);
    return length;
  }

  #startBody(length: number): void {
    if (length === 0) {
      this.#onMessage(Buffer.alloc(0));
      return;
    }
    this.#body = Buffer.allocUnsafe(length);
    this.#bodyHave = 0;
  }
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

/**
 * The sending end of one socket-lane connection: connects at once and writes the hello; batches
 * written before the peer answers it wait here, then go out in order, each as grpc-js' client
 * stream takes them (`write(batch, done)`; `done` once the bytes are handed to the kernel).
 * `onEnd` runs once, when the connection is gone for whatever reason.
 */
export class PeerSocketStream {
  readonly #socket: net.Socket;
  readonly #onEnd: (end: PeerSocketEnd) => void;
  readonly #stallTimer: NodeJS.Timeout;
  #helloSeen = 0;
  #refused = false;
  /** Batches written before the peer answered the hello, with their callbacks. */
  #waiting: { batch: OutgoingRaftBatch; done: () => void }[] = [];
  #ended = false;
  /** Writes whose callback has not run, and when one last completed (or the first was made). */
  #pending = 0;
  #progressAtMs = 0;

  /** `stallMs`: default PEER_SOCKET_STALL_MS (tests shorten it). */
  constructor(address: string, onEnd: (end: PeerSocketEnd) => void, stallMs = PEER_SOCKET_STALL_MS) {
    this.#onEnd = onEnd;
    const parsed = parseAddress(address);
    const host = parsed?.host.replace(/^\[(.*)\]$/, '$1') ?? '';
    this.#socket = net.connect({ host, port: parsed?.port ?? 0, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (error) => this.#end(error));
    this.#socket.on('close', () => this.#end(null));
    this.#stallTimer = setInterval(() => {
      if (this.#pending > 0 && performance.now() - this.#progressAtMs > stallMs) {
        this.#socket.destroy(new Error(`no write completed for ${stallMs} ms`));
      }
    }, Math.min(STALL_CHECK_MS, stallMs));
    this.#stallTimer.unref();
    if (parsed === undefined) {
      this.#socket.destroy(new Error(`not a host:port address: ${JSON.stringify(address)}`));
      return;
    }
    this.#socket.write(PEER_SOCKET_HELLO);
  }

  /** Whether the peer answered the hello: the lane is known to work. */
  get answered(): boolean {
    return this.#helloSeen === PEER_SOCKET_HELLO.byteLength;
  }

  /** Writes `batch` (as one frame, its large runs by reference); `done` runs once it is written or the connection is gone. */
  write(batch: OutgoingRaftBatch, done: () => void): void {
    if (!this.answered) {
      this.#waiting.push({ batch, done });
      return;
    }
    this.#send(batch, done);
  }

  #send(batch: OutgoingRaftBatch, done: () => void): void {
    const pieces = framedPieces(serializeRaftBatch(batch));
    if (this.#pending === 0) this.#progressAtMs = performance.now();
    this.#pending++;
    const socket = this.#socket;
    socket.cork();
    for (let i = 0; i < pieces.length - 1; i++) socket.write(pieces[i]!);
    socket.write(pieces[pieces.length - 1]!, () => {
      this.#pending--;
      this.#progressAtMs = performance.now();
      done();
    });
    socket.uncork();
  }

  /** Closes the connection once what was written has left. */
  end(): void {
    this.#socket.end();
  }

  #onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.byteLength && this.#helloSeen < PEER_SOCKET_HELLO.byteLength) {
      if (chunk[at] !== PEER_SOCKET_HELLO[this.#helloSeen]) {
        this.#refused = true;
        this.#socket.destroy(new Error('the peer does not speak the socket lane (an older member?)'));
        return;
      }
      at++;
      this.#helloSeen++;
      if (this.answered) {
        const waiting = this.#waiting;
        this.#waiting = [];
        for (const { batch, done } of waiting) this.#send(batch, done);
      }
    }
    if (at < chunk.byteLength) this.#socket.destroy(new Error('the peer sent bytes after its hello'));
  }

  #end(error: Error | null): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#stallTimer);
    this.#socket.destroy();
    const unsent = this.#waiting.map(({ batch }) => batch);
    this.#waiting = [];
    this.#onEnd({ error, refused: this.#refused, unsent });
  }
}
