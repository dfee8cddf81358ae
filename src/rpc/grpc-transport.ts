// The gRPC implementation of the node's Transport (src/node/transport.ts), sending side. Two
// long-lived PeerService.Raft client streams per peer carry RaftBatch messages: what the node
// sends during one event-loop turn is encoded (codec.encodeMessageParts: large entries' data by
// reference, not copied) and written as one or a few batches by raft-batch-codec.ts, which copies
// each payload once into its batch. The receiving side is peer-service.ts, which hands decoded messages to the handler
// registered here.
//
// The two streams are lanes, as etcd's rafthttp keeps one stream for appends and one for the
// rest: appends (MsgApp, up to a batch of 2 MiB pages each) go on the bulk lane; heartbeats,
// votes and every response on the control lane, so they never wait behind the tens of MiB of
// appends a slow follower may have queued. Without it, under `kvc bench` load a follower heard
// its leader's heartbeats only after the appends ahead of them, campaigned, and the leader's
// check-quorum stepped it down (docs/BENCHMARKS.md, failover). Raft tolerates the reordering
// between lanes; within a lane the order is kept.
//
// Raft tolerates loss, so this side never queues without bound or blocks the node: a message to
// a peer with no address, or whose outbox is full, is dropped and counted. A channel that is
// still connecting (a member that never talked to this peer since it started, e.g. a follower
// that just restarted and is asked to campaign) holds its messages for up to
// PEER_CONNECT_GRACE_MS and sends them once connected; without that grace its first vote requests
// were lost and a leadership transfer to it failed. Messages to a peer that stays unreachable are
// dropped. A failed stream is reopened on a later send after a backoff; the channel itself
// reconnects in the background (peerChannelOptions: 100 ms to 1 s).
import * as grpc from '@grpc/grpc-js';
import { encodeMessage, encodeMessageParts, type EncodedParts } from '../codec/index.js';
import { LIMITS } from '../limits.js';
import type { Transport, TransportHandler } from '../node/index.js';
import { MessageType, type Message, type NodeId } from '../raft/index.js';
import type { SnapshotChunk } from '../store/index.js';
import { AddressBook } from './address-book.js';
import { installFramedSend, type SnapshotAck__Output as SnapshotAck, type SnapshotPart as SnapshotPartOut } from '../proto/index.js';
import { loadProtos, peerChannelOptions } from './protos.js';
import { PeerSocketStream } from './peer-socket.js';
import { serializeRaftBatch, type OutgoingRaftBatch } from './raft-batch-codec.js';
import type { MemberCertificates } from './tls.js';

/**
 * Encoded bytes one lane of a peer (bulk or control) may hold while its stream is busy. Twice the bytes Raft keeps
 * in flight to one follower, so Raft's flow control, not this cap, normally decides.
 */
export const PEER_OUTBOX_BYTES_MAX = 2 * LIMITS.raft.maxInflightBytes;
/**
 * Bytes written to a peer stream and not yet handed to HTTP/2 (grpc-js queues writes without
 * bound, and its own backpressure signal counts messages, not bytes). Past it, new messages wait
 * in the outbox until writes complete. One largest batch, so a 32 MiB entry always fits.
 */
export const PEER_STREAM_UNSENT_BYTES_MAX = LIMITS.rpc.peerMessageBytesMax;
/** Room left in a RaftBatch for its own fields and protobuf framing. */
const BATCH_ENVELOPE_BYTES = 64 * 1024;
const BATCH_BYTES_MAX = LIMITS.rpc.peerMessageBytesMax - BATCH_ENVELOPE_BYTES;
/**
 * How long messages wait for a connecting channel before they are dropped: well under the
 * shortest election timeout (LIMITS.raft), so nothing stale is sent after Raft has moved on.
 */
export const PEER_CONNECT_GRACE_MS = 300;
const STREAM_RETRY_MS_MIN = 50;
const STREAM_RETRY_MS_MAX = 1_000;
/** How long a peer that refused the socket lane gets its appends over gRPC before the lane is tried again. */
export const SOCKET_REFUSED_RETRY_MS = 60_000;
/** A stream that lived this long before failing was healthy: the next one starts with the shortest backoff. */
const STREAM_HEALTHY_MS = 1_000;
/** At most one log line per peer per this interval about drops and failures. */
const LOG_INTERVAL_MS = 5_000;

export interface TransportCounters {
  /** Messages written to a peer stream. */
  sent: number;
  /** Messages dropped on the sending side (no address, not connected, outbox full). */
  dropped: number;
  /** Messages received and handed to the node. */
  received: number;
  /** Messages received and dropped: undecodable, local-only, or not addressed to this member. */
  rejected: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  /** Socket-lane connections to peers that became ready (hello answered; with TLS, the peer proved its identity). */
  socketLanesOpened: number;
  /** Times a peer refused the socket lane (an older member), sending its appends back to gRPC. */
  socketLanesRefused: number;
}

/** What a lane writes batches to: a gRPC client stream, or a socket-lane connection (bulk only). */
interface LaneStream {
  write(batch: OutgoingRaftBatch, done: () => void): unknown;
  end(): void;
}

/** One stream to a peer and the messages waiting for it. */
interface Lane {
  name: 'bulk' | 'control';
  stream: LaneStream | undefined;
  streamOpenedAtMs: number;
  /** Encoded messages; large entries' data by reference (Transport.send: entries are not modified). */
  outbox: EncodedParts[];
  outboxBytes: number;
  /** Bytes written to the current stream whose write has not completed. */
  unsentBytes: number;
  retryAtMs: number;
  retryDelayMs: number;
}

interface PeerLink {
  id: NodeId;
  address: string;
  client: grpc.Client;
  /** Appends. */
  bulk: Lane;
  /** Everything else: heartbeats, votes, responses, ReadIndex, TimeoutNow; access reports. */
  control: Lane;
  lastLogMs: number;
  /** Since when the outbox waits for the channel to connect (undefined: not waiting). */
  waitingSinceMs: number | undefined;
  /** A connectivity watch is armed to flush when the channel changes state. */
  watching: boolean;
  /** Until when appends go over gRPC because the peer refused the socket lane (an older member). */
  socketRefusedUntilMs: number;
}

export interface GrpcTransportOptions {
  addresses?: AddressBook;
  logger?: (line: string) => void;
  /** Default PEER_OUTBOX_BYTES_MAX. */
  outboxBytesMax?: number;
  /** Default PEER_STREAM_UNSENT_BYTES_MAX. */
  unsentBytesMax?: number;
  /** Dial peers over mutual TLS with these (tls.ts); default: plaintext. */
  certificates?: MemberCertificates;
  /**
   * Send appends over the socket lane (peer-socket.ts, with mutual TLS where `certificates` are
   * given) rather than a gRPC stream. Default: true, unless KVC_PEER_APPENDS=grpc.
   */
  socketLane?: boolean;
}

export class GrpcTransport implements Transport {
  readonly addresses: AddressBook;
  readonly counters: TransportCounters = { sent: 0, dropped: 0, received: 0, rejected: 0, snapshotsSent: 0, snapshotsFailed: 0, socketLanesOpened: 0, socketLanesRefused: 0 };
  readonly #log: (line: string) => void;
  readonly #outboxBytesMax: number;
  readonly #unsentBytesMax: number;
  readonly #certificates: MemberCertificates | undefined;
  readonly #socketLane: boolean;
  readonly #links = new Map<NodeId, PeerLink>();
  #local: { id: NodeId; handler: TransportHandler } | undefined;
  #selfAddress = '';
  #flushScheduled = false;
  #closed = false;

  constructor(options: GrpcTransportOptions = {}) {
    this.addresses = options.addresses ?? new AddressBook();
    this.#log = options.logger ?? (() => undefined);
    // Raft batches go out framed where they were encoded, not copied once more by grpc-js; where
    // this grpc-js does not allow it they are copied as before, and the transport logs why.
    const framing = installFramedSend();
    if (!framing.installed) this.#log(`peer transport: grpc-js copies every Raft batch into a frame of its own: ${framing.reason} (src/proto/framed-send.ts)`);
    this.#outboxBytesMax = options.outboxBytesMax ?? PEER_OUTBOX_BYTES_MAX;
    this.#unsentBytesMax = options.unsentBytesMax ?? PEER_STREAM_UNSENT_BYTES_MAX;
    this.#certificates = options.certificates;
    this.#socketLane = options.socketLane ?? process.env.KVC_PEER_APPENDS !== 'grpc';
    // A member whose address changed or that was removed gets a fresh link on the next send.
    this.addresses.onChange((id) => this.#closeLink(id));
  }

  /** The address peers are told to reach this member at (RaftBatch.from_address). */
  setSelfAddress(address: string): void {
    this.#selfAddress = address;
  }

  register(id: NodeId, handler: TransportHandler): void {
    this.#local = { id, handler };
  }

  unregister(id: NodeId): void {
    if (this.#local?.id === id) this.#local = undefined;
  }

  /** The handler of the local member `to`, if it is registered (the receiving side uses it). */
  handlerFor(to: NodeId): TransportHandler | undefined {
    return this.#local?.id === to ? this.#local.handler : undefined;
  }

  get localId(): NodeId | undefined {
    return this.#local?.id;
  }

  send(messages: Message[]): void {
    if (this.#closed) return;
    for (const m of messages) {
      const link = this.#linkFor(m.to);
      if (link === undefined) {
        this.counters.dropped++;
        continue;
      }
      const bytes = encodeMessageParts(m);
      const lane = m.type === MessageType.App ? link.bulk : link.control;
      if (lane.outboxBytes + bytes.byteLength > this.#outboxBytesMax) {
        this.#drop(link, 1, `${lane.name} outbox full`);
        continue;
      }
      lane.outbox.push(bytes);
      lane.outboxBytes += bytes.byteLength;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Everything the node sends in this turn leaves together, as few batches per peer.
      setImmediate(() => {
        this.#flushScheduled = false;
        for (const link of this.#links.values()) this.#flushLink(link);
      });
    }
  }

  /**
   * An access report rides the Raft stream as a batch of its own. It is best effort like the
   * messages: written only when the stream is open and not backed up, else dropped (the next
   * report, a second later, carries newer accesses anyway).
   */
  sendAccessReport(from: NodeId, to: NodeId, report: Uint8Array): void {
    if (this.#closed) return;
    const link = this.#linkFor(to);
    const stream = link === undefined ? undefined : this.#streamFor(link, link.control);
    if (link === undefined || stream === undefined || link.control.unsentBytes >= this.#unsentBytesMax) {
      this.counters.dropped++;
      return;
    }
    stream.write({ from, to, messages: [], fromAddress: this.#selfAddress, accessReport: report }, () => undefined);
  }

  async sendSnapshot(message: Message, chunks: AsyncIterable<SnapshotChunk>): Promise<boolean> {
    const link = this.#linkFor(message.to);
    if (link === undefined || !this.#connected(link)) {
      this.counters.snapshotsFailed++;
      return false;
    }
    const ok = await streamSnapshot(link.client, encodeMessage(message), chunks).catch((error: unknown) => {
      this.#log(`snapshot to member ${message.to} failed: ${String(error)}`);
      return false;
    });
    if (ok) this.counters.snapshotsSent++;
    else this.counters.snapshotsFailed++;
    return ok;
  }

  /** Ends every stream and closes every channel. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#links.keys()]) this.#closeLink(id);
  }

  #linkFor(id: NodeId): PeerLink | undefined {
    const existing = this.#links.get(id);
    if (existing !== undefined) return existing;
    const address = this.addresses.get(id);
    if (address === undefined || this.#closed || id === this.#local?.id) return undefined;
    const link: PeerLink = {
      id,
      address,
      // Over TLS, new connections take the certificates reloaded since (tls.ts).
      client: new grpc.Client(address, this.#certificates?.peerCredentials(id) ?? grpc.credentials.createInsecure(), peerChannelOptions()),
      bulk: newLane('bulk'),
      control: newLane('control'),
      lastLogMs: -Infinity,
      waitingSinceMs: undefined,
      watching: false,
      socketRefusedUntilMs: 0,
    };
    this.#links.set(id, link);
    return link;
  }

  #closeLink(id: NodeId): void {
    const link = this.#links.get(id);
    if (link === undefined) return;
    this.#links.delete(id);
    for (const lane of [link.bulk, link.control]) {
      lane.stream?.end();
      lane.stream = undefined;
    }
    link.client.close();
  }

  /** READY now; otherwise asks the channel to connect and answers false. */
  #connected(link: PeerLink): boolean {
    return link.client.getChannel().getConnectivityState(true) === grpc.connectivityState.READY;
  }

  /** Control first: what it carries is small and what elections wait for. */
  #flushLink(link: PeerLink): void {
    this.#flush(link, link.control);
    this.#flush(link, link.bulk);
  }

  #flush(link: PeerLink, lane: Lane): void {
    if (lane.outbox.length === 0 || lane.unsentBytes >= this.#unsentBytesMax) return;
    const stream = this.#streamFor(link, lane);
    if (stream === undefined) {
      if (this.#waitForConnection(link)) return;
      this.#drop(link, lane.outbox.length, 'peer not connected');
      lane.outbox = [];
      lane.outboxBytes = 0;
      link.waitingSinceMs = undefined;
      return;
    }
    link.waitingSinceMs = undefined;
    while (lane.outbox.length > 0 && lane.unsentBytes < this.#unsentBytesMax) {
      const { messages, bytes } = takeBatch(lane);
      this.counters.sent += messages.length;
      lane.unsentBytes += bytes;
      const batch: OutgoingRaftBatch = { from: this.#local?.id ?? 0, to: link.id, messages, fromAddress: this.#selfAddress };
      stream.write(batch, () => {
        // A write of an ended stream completes too; its bytes belong to no stream any more.
        if (lane.stream !== stream) return;
        lane.unsentBytes -= bytes;
        this.#flush(link, lane);
      });
    }
  }

  /**
   * Keeps the outbox while the channel is connecting and the grace has not run out, and arms one
   * connectivity watch that flushes again on the next state change or at the end of the grace.
   * False when the messages should be dropped now.
   */
  #waitForConnection(link: PeerLink): boolean {
    const channel = link.client.getChannel();
    const state = channel.getConnectivityState(false);
    const connecting = state === grpc.connectivityState.IDLE || state === grpc.connectivityState.CONNECTING;
    const now = performance.now();
    link.waitingSinceMs ??= now;
    const deadlineMs = link.waitingSinceMs + PEER_CONNECT_GRACE_MS;
    if (!connecting || now >= deadlineMs || this.#closed) return false;
    if (!link.watching) {
      link.watching = true;
      // grpc-js takes a wall-clock deadline; the grace itself is timed on the monotonic clock.
      channel.watchConnectivityState(state, Date.now() + (deadlineMs - now), () => {
        link.watching = false;
        if (this.#links.get(link.id) === link) this.#flushLink(link);
      });
    }
    return true;
  }

  #streamFor(link: PeerLink, lane: Lane): LaneStream | undefined {
    if (lane.stream !== undefined) return lane.stream;
    const now = performance.now();
    if (now < lane.retryAtMs || !this.#connected(link)) return undefined;
    // The gRPC channel being up says the peer is; its grace and drop rules apply to both lanes.
    if (lane.name === 'bulk' && this.#socketLane && now >= link.socketRefusedUntilMs) return this.#openSocketStream(link, lane);
    const method = loadProtos().peer.Raft!;
    const stream = link.client.makeClientStreamRequest<OutgoingRaftBatch, unknown>(
      method.path,
      serializeRaftBatch,
      method.responseDeserialize,
      (error) => this.#streamEnded(link, lane, stream, error),
    );
    // Errors arrive through the callback; this listener only keeps a late 'error' event harmless.
    stream.on('error', () => undefined);
    lane.stream = stream;
    lane.streamOpenedAtMs = performance.now();
    return stream;
  }

  /**
   * A socket-lane connection for `link`'s appends. It connects on its own (batches written until
   * it is ready wait in it); one the peer refuses sends this peer's appends back to gRPC for
   * SOCKET_REFUSED_RETRY_MS, what waited first.
   */
  #openSocketStream(link: PeerLink, lane: Lane): LaneStream {
    // Over TLS, each connection takes the certificates reloaded since (tls.ts), as gRPC's channels do.
    const options = {
      ...(this.#certificates === undefined ? {} : { tls: { pem: this.#certificates.pem, peerId: link.id } }),
      onReady: () => this.counters.socketLanesOpened++,
    };
    const stream: PeerSocketStream = new PeerSocketStream(link.address, ({ error, refused, unsent }) => {
      if (lane.stream !== stream) return;
      this.#streamEnded(link, lane, stream, refused ? null : error);
      if (!refused || this.#links.get(link.id) !== link) return;
      link.socketRefusedUntilMs = performance.now() + SOCKET_REFUSED_RETRY_MS;
      this.counters.socketLanesRefused++;
      this.#rateLimitedLog(link, `member ${link.id} at ${link.address} does not take appends over the socket lane: they go over gRPC for ${SOCKET_REFUSED_RETRY_MS / 1000} s`);
      // What waited for the refused hello goes first, over gRPC, at once.
      const messages = unsent.flatMap((batch) => batch.messages ?? []);
      this.counters.sent -= messages.length;
      lane.outbox.unshift(...messages);
      lane.outboxBytes += messages.reduce((sum, m) => sum + m.byteLength, 0);
      lane.retryAtMs = 0;
      this.#flush(link, lane);
    }, options);
    lane.stream = stream;
    lane.streamOpenedAtMs = performance.now();
    return stream;
  }

  #streamEnded(link: PeerLink, lane: Lane, stream: LaneStream, error: Error | null): void {
    if (lane.stream !== stream) return;
    lane.stream = undefined;
    lane.unsentBytes = 0;
    const now = performance.now();
    lane.retryDelayMs = now - lane.streamOpenedAtMs >= STREAM_HEALTHY_MS ? STREAM_RETRY_MS_MIN : Math.min(lane.retryDelayMs * 2, STREAM_RETRY_MS_MAX);
    lane.retryAtMs = now + lane.retryDelayMs;
    if (error !== null && !this.#closed) this.#rateLimitedLog(link, `Raft ${lane.name} stream to member ${link.id} at ${link.address} ended: ${error.message}`);
  }

  #drop(link: PeerLink, count: number, why: string): void {
    this.counters.dropped += count;
    this.#rateLimitedLog(link, `dropped ${count} message(s) to member ${link.id} at ${link.address}: ${why}`);
  }

  #rateLimitedLog(link: PeerLink, line: string): void {
    const now = performance.now();
    if (now - link.lastLogMs < LOG_INTERVAL_MS) return;
    link.lastLogMs = now;
    this.#log(line);
  }
}

function newLane(name: Lane['name']): Lane {
  return { name, stream: undefined, streamOpenedAtMs: 0, outbox: [], outboxBytes: 0, unsentBytes: 0, retryAtMs: 0, retryDelayMs: STREAM_RETRY_MS_MIN };
}

/** Takes messages off a lane's outbox up to one batch's bytes (always at least one message). */
function takeBatch(lane: Lane): { messages: EncodedParts[]; bytes: number } {
  let bytes = 0;
  let count = 0;
  while (count < lane.outbox.length) {
    const next = lane.outbox[count]!.byteLength;
    if (count > 0 && bytes + next > BATCH_BYTES_MAX) break;
    bytes += next;
    count++;
  }
  lane.outboxBytes -= bytes;
  return { messages: lane.outbox.splice(0, count), bytes };
}

/**
 * Streams a store snapshot over PeerService.Snapshot: the first part carries the encoded MsgSnap,
 * every part one store chunk in order. Resolves true once the receiver answers `installed`.
 */
async function streamSnapshot(client: grpc.Client, message: Uint8Array, chunks: AsyncIterable<SnapshotChunk>): Promise<boolean> {
  const method = loadProtos().peer.Snapshot!;
  let failure: Error | undefined;
  let call!: grpc.ClientWritableStream<SnapshotPartOut>;
  const answered = new Promise<boolean>((resolve) => {
    call = client.makeClientStreamRequest<SnapshotPartOut, SnapshotAck>(method.path, method.requestSerialize, method.responseDeserialize, (error, response) => {
      failure = error ?? undefined;
      resolve(error === null && response?.installed === true);
    });
  });
  call.on('error', () => undefined);
  let first = true;
  try {
    for await (const chunk of chunks) {
      if (failure !== undefined) break;
      const part: SnapshotPartOut = { seq: chunk.seq, data: chunk.data, crc32c: chunk.crc32c, last: chunk.last };
      if (first) part.message = message;
      first = false;
      if (chunk.last) {
        part.totalCrc32c = chunk.totalCrc32c ?? 0;
        part.appliedIndex = chunk.appliedIndex ?? 0;
      }
      if (!call.write(part)) await Promise.race([new Promise((resolve) => call.once('drain', resolve)), answered]);
    }
  } catch (error) {
    // Reading our own store failed: abandon the transfer; the receiver keeps its state.
    call.cancel();
    throw error;
  }
  call.end();
  return answered;
}
