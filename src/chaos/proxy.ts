// A TCP proxy the chaos harness puts on every peer link: member i reaches member j only through
// the proxy P(i->j), so the harness can cut, hold or slow that one direction of Raft traffic
// without touching the members. Raft messages from i to j travel on the gRPC stream i opened to
// j (src/rpc/grpc-transport.ts; appends on a socket-lane connection i opened to the same address,
// src/rpc/peer-socket.ts), and j's answers on the stream j opened to i, so blocking one proxy is
// a one-way drop.
//
// Two ways to block, because real networks fail both ways:
// - `reset`: every open connection is reset (RST) and new ones are reset as soon as they are
//   accepted, like a peer whose port refuses connections. grpc-js notices at once and reconnects
//   with its backoff after the heal.
// - `hold`: nothing is read from either side of open connections, and new connections are
//   accepted but not forwarded, like a link that silently loses every packet. Senders fill their
//   buffers and stall; after the heal the held bytes flow on in order (stale Raft messages, which
//   Raft tolerates), or a keepalive has torn the connection down meanwhile.
// A delay (latency injection) holds every chunk for `delayMs` before forwarding it, in order.
import net from 'node:net';

export type BlockMode = 'reset' | 'hold';

/**
 * Bytes one direction of one connection may hold while delayed or held before the proxy stops
 * reading from its source (TCP backpressure then slows the sender). Raft's own flow control
 * keeps far less than this in flight; the bound only keeps a runaway sender from exhausting memory.
 */
export const PROXY_QUEUE_BYTES_MAX = 64 * 1024 * 1024;
/** Latency injection is for a few hundred milliseconds; more would stall elections rather than slow them. */
export const PROXY_DELAY_MS_MAX = 10_000;

export interface ProxyOptions {
  /** Where connections go ("host:port"). */
  target: string;
  /** Host to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Name for log lines and errors, e.g. "n1->n3". */
  name?: string;
}

export interface ProxyCounters {
  accepted: number;
  /** Connections reset by a `reset` block (open ones, and new ones refused while blocked). */
  reset: number;
  /** Bytes forwarded from the connecting side to the target, and back. */
  bytesForward: number;
  bytesBackward: number;
}

interface QueuedChunk {
  atMs: number;
  chunk: Buffer;
}

/** One direction of one proxied connection: reads `source`, writes `sink`, in order. */
class Pipe {
  readonly #source: net.Socket;
  readonly #sink: net.Socket;
  readonly #proxy: TcpProxy;
  readonly #count: (bytes: number) => void;
  readonly #queue: QueuedChunk[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #waitingForDrain = false;
  #ended = false;

  constructor(source: net.Socket, sink: net.Socket, proxy: TcpProxy, count: (bytes: number) => void) {
    this.#source = source;
    this.#sink = sink;
    this.#proxy = proxy;
    this.#count = count;
    source.on('data', (chunk: Buffer) => this.#onData(chunk));
    source.on('end', () => {
      this.#ended = true;
      this.#pump();
    });
  }

  /** Re-evaluates what may flow now (after an unblock or a delay change). */
  pump(): void {
    this.#pump();
  }

  /** Stops reading while held; reading resumes through pump(). */
  hold(): void {
    this.#source.pause();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  #onData(chunk: Buffer): void {
    this.#queue.push({ atMs: performance.now() + this.#proxy.delayMs, chunk });
    this.#queuedBytes += chunk.byteLength;
    this.#pump();
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#sink.destroyed) return;
    if (this.#proxy.holding) {
      this.#source.pause();
      return;
    }
    const now = performance.now();
    while (this.#queue.length > 0 && !this.#waitingForDrain) {
      const head = this.#queue[0]!;
      if (head.atMs > now) {
        this.#timer = setTimeout(() => this.#pump(), Math.max(1, Math.ceil(head.atMs - now)));
        break;
      }
      this.#queue.shift();
      this.#queuedBytes -= head.chunk.byteLength;
      this.#count(head.chunk.byteLength);
      if (!this.#sink.write(head.chunk)) {
        this.#waitingForDrain = true;
        this.#sink.once('drain', () => {
          this.#waitingForDrain = false;
          this.#pump();
        });
      }
    }
    if (this.#queue.length === 0 && this.#ended) {
      this.#sink.end();
      return;
    }
    // Backpressure: read more only while the sink keeps up and the queue has room.
    if (this.#waitingForDrain || this.#queuedBytes >= PROXY_QUEUE_BYTES_MAX) this.#source.pause();
    else this.#source.resume();
  }
}

/** One accepted connection and its upstream connection to the target. */
class Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  readonly #pipes: Pipe[];
  #closed = false;

  constructor(client: net.Socket, upstream: net.Socket, proxy: TcpProxy, counters: ProxyCounters, onClose: (link: Link) => void) {
    this.client = client;
    this.upstream = upstream;
    this.#pipes = [
      new Pipe(client, upstream, proxy, (bytes) => (counters.bytesForward += bytes)),
      new Pipe(upstream, client, proxy, (bytes) => (counters.bytesBackward += bytes)),
    ];
    const close = (): void => {
      if (this.#closed) return;
      this.#closed = true;
      for (const pipe of this.#pipes) pipe.dispose();
      client.destroy();
      upstream.destroy();
      onClose(this);
    };
    for (const socket of [client, upstream]) {
      // A peer's failure (a killed member, a reset) ends the whole link; the other side then sees
      // its connection close, as it would without the proxy.
      socket.on('error', close);
      socket.on('close', close);
    }
  }

  pump(): void {
    for (const pipe of this.#pipes) pipe.pump();
  }

  hold(): void {
    for (const pipe of this.#pipes) pipe.hold();
  }

  reset(): void {
    this.client.resetAndDestroy();
    this.upstream.resetAndDestroy();
  }
}

export class TcpProxy {
  readonly name: string;
  readonly counters: ProxyCounters = { accepted: 0, reset: 0, bytesForward: 0, bytesBackward: 0 };
  readonly #target: { host: string; port: number };
  readonly #host: string;
  readonly #port: number;
  readonly #links = new Set<Link>();
  #server: net.Server | undefined;
  #blocked: BlockMode | undefined;
  #delayMs = 0;
  #address = '';

  constructor(o: ProxyOptions) {
    this.#target = splitAddress(o.target);
    this.#host = o.host ?? '127.0.0.1';
    this.#port = o.port ?? 0;
    this.name = o.name ?? `proxy->${o.target}`;
  }

  /** Starts listening; resolves with the "host:port" to dial. */
  async listen(): Promise<string> {
    const server = net.createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.#host, port: this.#port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#address = `${this.#host}:${(server.address() as net.AddressInfo).port}`;
    return this.#address;
  }

  /** The address to dial, once listening. */
  get address(): string {
    return this.#address;
  }

  get target(): string {
    return `${this.#target.host}:${this.#target.port}`;
  }

  /** How the proxy blocks now, or undefined when it forwards. */
  get blocked(): BlockMode | undefined {
    return this.#blocked;
  }

  get holding(): boolean {
    return this.#blocked === 'hold';
  }

  get delayMs(): number {
    return this.#delayMs;
  }

  /** Open proxied connections. */
  get connections(): number {
    return this.#links.size;
  }

  block(mode: BlockMode): void {
    this.#blocked = mode;
    if (mode === 'reset') {
      for (const link of [...this.#links]) {
        link.reset();
        this.counters.reset++;
      }
    } else {
      for (const link of this.#links) link.hold();
    }
  }

  unblock(): void {
    this.#blocked = undefined;
    for (const link of this.#links) link.pump();
  }

  /** Forwards every chunk `ms` after it arrived (0: at once). Chunks already queued keep their time. */
  setDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0 || ms > PROXY_DELAY_MS_MAX) throw new RangeError(`delay must be 0..${PROXY_DELAY_MS_MAX} ms, got ${ms}`);
    this.#delayMs = ms;
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const link of [...this.#links]) link.reset();
    this.#links.clear();
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.counters.accepted++;
    if (this.#blocked === 'reset' || this.#server === undefined) {
      this.counters.reset++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = net.connect({ host: this.#target.host, port: this.#target.port });
    upstream.setNoDelay(true);
    const link = new Link(client, upstream, this, this.counters, (closed) => this.#links.delete(closed));
    this.#links.add(link);
    if (this.holding) link.hold();
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) throw new RangeError(`expected host:port, got "${address}"`);
  return { host: address.slice(0, colon), port };
}
