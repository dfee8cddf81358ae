// The members a client knows and the gRPC channels to each (one by default). Writes go to the leader hint (the
// last `kvcache-leader` trailer seen), reads rotate round-robin over every known member, and new
// addresses are learned from redirects and Status answers. Channels are created lazily and live
// until close(); a removed member simply fails its calls and the retry loop moves on. With
// several connections per member, calls to it rotate over them (each its own HTTP/2 connection:
// grpc-js would otherwise share one subchannel between channels of equal options).

import * as grpc from '@grpc/grpc-js';
import { LIMITS } from '../limits.js';

/** Most members the pool will learn about: bounds what a confused server could make it dial. */
export const ENDPOINTS_MAX = 256;

/**
 * Reconnect quickly after a member restarts: grpc-js's default backoff grows to 120 s, during
 * which every call to that member fails at once, far longer than a member takes to come back.
 */
const RECONNECT_BACKOFF_INITIAL_MS = 100;
const RECONNECT_BACKOFF_MAX_MS = 1_000;
/** Detect a dead peer on an idle connection in ~40 s instead of relying on TCP timeouts. */
const KEEPALIVE_TIME_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;

/** Channel options, all explicit (CONVENTIONS; DESIGN §11 for the flow-control window). */
export const CLIENT_CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  'grpc.max_receive_message_length': LIMITS.rpc.clientMessageBytesMax,
  'grpc.max_send_message_length': LIMITS.rpc.clientMessageBytesMax,
  'grpc-node.flow_control_window': LIMITS.rpc.flowControlWindowBytes,
  'grpc.initial_reconnect_backoff_ms': RECONNECT_BACKOFF_INITIAL_MS,
  'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MAX_MS,
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
});

/** Most HTTP/2 connections to one member. */
export const CONNECTIONS_PER_MEMBER_MAX = 16;

export interface EndpointPoolOptions {
  /** HTTP/2 connections to each member (default 1). */
  connectionsPerMember?: number;
  /** Options laid over CLIENT_CHANNEL_OPTIONS (e.g. another flow-control window). */
  channelOptions?: grpc.ChannelOptions;
  /** Credentials of every channel (TLS); default: plaintext. */
  credentials?: grpc.ChannelCredentials;
}

export class EndpointPool {
  #order: string[] = [];
  #clients = new Map<string, { channels: grpc.Client[]; next: number }>();
  #next = 0;
  #leader: string | undefined;
  #closed = false;
  readonly #connectionsPerMember: number;
  readonly #channelOptions: grpc.ChannelOptions;
  readonly #credentials: grpc.ChannelCredentials;

  constructor(endpoints: readonly string[], o: EndpointPoolOptions = {}) {
    if (endpoints.length === 0) throw new TypeError('at least one endpoint is required');
    const connections = o.connectionsPerMember ?? 1;
    if (!Number.isSafeInteger(connections) || connections < 1 || connections > CONNECTIONS_PER_MEMBER_MAX) {
      throw new RangeError(`connectionsPerMember must be an integer from 1 to ${CONNECTIONS_PER_MEMBER_MAX}, got ${connections}`);
    }
    this.#connectionsPerMember = connections;
    this.#channelOptions = { ...CLIENT_CHANNEL_OPTIONS, ...o.channelOptions };
    this.#credentials = o.credentials ?? grpc.credentials.createInsecure();
    for (const endpoint of endpoints) this.add(endpoint);
  }

  /** Learn an address; returns whether it was new. Ignores empty addresses and any past the cap. */
  add(endpoint: string): boolean {
    if (typeof endpoint !== 'string' || endpoint === '') return false;
    if (this.#order.includes(endpoint) || this.#order.length >= ENDPOINTS_MAX) return false;
    this.#order.push(endpoint);
    return true;
  }

  known(): readonly string[] {
    return this.#order;
  }

  get leader(): string | undefined {
    return this.#leader;
  }

  /** Record (or forget, with undefined) where the leader is; a new address is learned. */
  setLeader(endpoint: string | undefined): void {
    if (endpoint !== undefined) this.add(endpoint);
    this.#leader = endpoint;
  }

  /** The next member in round-robin order. */
  nextReplica(): string {
    const endpoint = this.#order[this.#next % this.#order.length]!;
    this.#next = (this.#next + 1) % this.#order.length;
    return endpoint;
  }

  /** Where a write goes: the leader hint, or the next member when no leader is known. */
  leaderOrNext(): string {
    return this.#leader ?? this.nextReplica();
  }

  /** A channel to `endpoint` (the next of its connections), created on first use. */
  client(endpoint: string): grpc.Client {
    if (this.#closed) throw new Error('the client is closed');
    let member = this.#clients.get(endpoint);
    if (member === undefined) {
      const separate = this.#connectionsPerMember > 1 ? { 'grpc.use_local_subchannel_pool': 1 } : {};
      const channels = Array.from(
        { length: this.#connectionsPerMember },
        () => new grpc.Client(endpoint, this.#credentials, { ...this.#channelOptions, ...separate }),
      );
      member = { channels, next: 0 };
      this.#clients.set(endpoint, member);
    }
    const channel = member.channels[member.next]!;
    member.next = (member.next + 1) % member.channels.length;
    return channel;
  }

  close(): void {
    this.#closed = true;
    for (const member of this.#clients.values()) for (const channel of member.channels) channel.close();
    this.#clients.clear();
  }
}
