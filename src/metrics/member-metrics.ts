// Prometheus metrics of one member (prom-client), served on their own HTTP listener. Two kinds of
// figures: events the member reports as they happen (NodeObserver: WAL saves, proposals, leader
// changes, snapshots; and every finished gRPC call), and state read when Prometheus scrapes
// (Raft indexes, pages and bytes per namespace, lookups, evictions, the memory tier, blob files,
// the peer transport). Reading at scrape time keeps the put and get paths free of metric updates
// beyond one histogram observation per event.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import type { ClusterNode, NodeObserver } from '../node/index.js';

/** Seconds buckets from 0.5 ms to 30 s: fsyncs, proposals, calls and snapshots all fit. */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Namespaces labelled one by one; past this many the rest are summed under `namespace="(other)"`. */
export const METRICS_NAMESPACES_MAX = 1_000;
/** Scrapes take this long at most before the listener answers 503 (a stuck member must not pile them up). */
const SCRAPE_TIMEOUT_MS = 5_000;

/** The peer transport's counters (GrpcTransport.counters). */
export interface PeerCounters {
  sent: number;
  dropped: number;
  received: number;
  rejected: number;
  socketLanesOpened: number;
  socketLanesRefused: number;
}

export interface MemberMetricsSources {
  id: number;
  /** The node once it has started (undefined before: state metrics are then absent). */
  node: () => ClusterNode | undefined;
  peers: () => PeerCounters;
}

export class MemberMetrics {
  readonly registry = new client.Registry();
  readonly observer: NodeObserver;
  readonly #calls: client.Counter<'method' | 'code'>;
  readonly #callSeconds: client.Histogram<'method'>;
  readonly #transferPages: client.Counter<'direction'>;
  readonly #transferBytes: client.Counter<'direction'>;

  constructor(sources: MemberMetricsSources) {
    const registry = this.registry;
    registry.setDefaultLabels({ member: String(sources.id) });
    client.collectDefaultMetrics({ register: registry });
    const node = sources.node;

    // ---- events ---------------------------------------------------------------------------
    const walSave = new client.Histogram({ name: 'kvc_wal_save_seconds', help: 'One WAL save (writev, and fdatasync when synced="true").', labelNames: ['synced'], buckets: SECONDS_BUCKETS, registers: [registry] });
    const walBytes = new client.Counter({ name: 'kvc_wal_entry_bytes_total', help: 'Bytes of Raft entries written to the WAL.', registers: [registry] });
    const proposals = new client.Histogram({ name: 'kvc_proposal_seconds', help: "This member's proposals, from propose() until applied here (outcome applied) or failed (dropped: the Raft core refused it; failed: timeout, leadership loss).", labelNames: ['outcome'], buckets: SECONDS_BUCKETS, registers: [registry] });
    const dropped = new client.Counter({ name: 'kvc_proposals_dropped_total', help: 'Proposals the Raft core refused (KVC_PROPOSAL_DROPPED).', registers: [registry] });
    const leaderChanges = new client.Counter({ name: 'kvc_leader_changes_total', help: 'Times this member saw the leader change (to none included).', registers: [registry] });
    const snapshotSend = new client.Histogram({ name: 'kvc_snapshot_send_seconds', help: 'Store images streamed to followers.', labelNames: ['ok'], buckets: SECONDS_BUCKETS, registers: [registry] });
    const snapshotInstall = new client.Histogram({ name: 'kvc_snapshot_install_seconds', help: 'Store images received and installed from the leader.', labelNames: ['ok'], buckets: SECONDS_BUCKETS, registers: [registry] });
    const stalls = new client.Histogram({ name: 'kvc_event_loop_stall_seconds', help: 'Raft ticks that came half an election timeout late or more: how long the event loop could not run (heartbeats were late).', labelNames: ['cause'], buckets: SECONDS_BUCKETS, registers: [registry] });
    this.#calls = new client.Counter({ name: 'kvc_grpc_requests_total', help: 'Finished gRPC calls by method and outcome (OK, a KVC_* code, or CANCELLED).', labelNames: ['method', 'code'], registers: [registry] });
    this.#callSeconds = new client.Histogram({ name: 'kvc_grpc_request_seconds', help: 'gRPC call duration by method.', labelNames: ['method'], buckets: SECONDS_BUCKETS, registers: [registry] });
    this.#transferPages = new client.Counter({ name: 'kvc_transfer_pages_total', help: 'Pages received by PutPages (direction in) and sent by GetPages, streamed or through shared memory (out).', labelNames: ['direction'], registers: [registry] });
    this.#transferBytes = new client.Counter({ name: 'kvc_transfer_bytes_total', help: 'Payload bytes of the pages received by PutPages (in) and sent by GetPages (out).', labelNames: ['direction'], registers: [registry] });
    this.observer = {
      walSaved: (seconds, entryBytes, synced) => {
        walSave.observe({ synced: String(synced) }, seconds);
        walBytes.inc(entryBytes);
      },
      proposalDone: (seconds, outcome) => {
        proposals.observe({ outcome }, seconds);
        if (outcome === 'dropped') dropped.inc();
      },
      leaderChanged: () => leaderChanges.inc(),
      snapshotSent: (seconds, ok) => snapshotSend.observe({ ok: String(ok) }, seconds),
      snapshotInstalled: (seconds, ok) => snapshotInstall.observe({ ok: String(ok) }, seconds),
      eventLoopStalled: (seconds, cpuSeconds) => stalls.observe({ cause: cpuSeconds >= seconds / 2 ? 'busy' : 'starved' }, seconds),
    };

    // ---- state, read at scrape time ---------------------------------------------------------
    const gauge = (name: string, help: string, read: (n: ClusterNode) => number): void => {
      new client.Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          const n = node();
          if (n !== undefined) this.set(read(n));
        },
      });
    };
    gauge('kvc_raft_term', 'Current Raft term.', (n) => n.status().term);
    gauge('kvc_raft_commit_index', 'Highest log index known committed.', (n) => n.status().commitIndex);
    gauge('kvc_raft_applied_index', 'Highest log index applied to the store.', (n) => n.status().appliedIndex);
    gauge('kvc_raft_is_leader', '1 on the leader, 0 elsewhere.', (n) => (n.isLeader() ? 1 : 0));
    gauge('kvc_wal_segments', 'WAL segment files.', (n) => n.status().walSegments);
    gauge('kvc_wal_cached_bytes', 'Payload bytes of WAL entries held in memory: the entries some follower lacks or this member has not applied, at most LIMITS.wal.entryCacheBytes.', (n) => n.status().walCachedBytes);
    gauge('kvc_store_pages', 'Pages stored (all namespaces).', (n) => n.status().pages);
    gauge('kvc_store_bytes', 'Payload bytes stored (all namespaces).', (n) => n.status().bytes);
    gauge('kvc_budget_bytes', 'The replicated byte budget.', (n) => n.store.settings().budgetBytes);
    gauge('kvc_memory_tier_arena_bytes', "Bytes of the memory tier's arena.", (n) => n.memoryTierStats().arenaBytes);
    gauge('kvc_memory_tier_cached_bytes', 'Payload bytes cached in the memory tier.', (n) => n.memoryTierStats().cachedBytes);
    gauge('kvc_blob_bytes', 'Bytes in blob files, garbage included.', (n) => n.store.blobStats().bytes);
    gauge('kvc_blob_garbage_bytes', 'Bytes in blob files that no page refers to.', (n) => n.store.blobStats().garbageBytes);
    gauge('kvc_blob_files', 'Blob files, WAL segments linked in included.', (n) => n.store.blobStats().files);
    gauge('kvc_blob_wal_files', 'WAL segments linked into the blob folder (the value log keeps payloads in them).', (n) => n.store.blobStats().walFiles);
    gauge('kvc_value_log', '1 while large payloads stay where their entry lies in the WAL, 0 when they are written again to blob files (kvc status says why).', (n) => (n.valueLogStatus().enabled ? 1 : 0));
    gauge('kvc_direct_io', '1 while blob payloads are read (and direct appends written) past the page cache (O_DIRECT), 0 when they are not (kvc status says why).', (n) => (n.status().directIo.enabled ? 1 : 0));

    const perNamespace = (name: string, help: string, read: (n: ClusterNode) => Map<string, number>, type: 'gauge' | 'counter'): void => {
      const totals = new MonotonicTotals();
      const options = {
        name,
        help,
        labelNames: ['namespace'] as const,
        registers: [registry],
      };
      const set = (metric: client.Gauge<'namespace'> | client.Counter<'namespace'>, n: ClusterNode): void => {
        // A gauge forgets dropped namespaces; a counter keeps its totals and only grows.
        if (metric instanceof client.Gauge) metric.reset();
        for (const [ns, value] of capNamespaces(read(n))) {
          if (metric instanceof client.Gauge) metric.set({ namespace: ns }, value);
          else metric.inc({ namespace: ns }, totals.next(ns, value));
        }
      };
      if (type === 'gauge') {
        new client.Gauge({ ...options, collect() { const n = node(); if (n !== undefined) set(this, n); } });
      } else {
        new client.Counter({ ...options, collect() { const n = node(); if (n !== undefined) set(this, n); } });
      }
    };
    perNamespace('kvc_namespace_pages', 'Pages stored per namespace.', (n) => namespaceFigures(n, 'pages'), 'gauge');
    perNamespace('kvc_namespace_bytes', 'Payload bytes stored per namespace.', (n) => namespaceFigures(n, 'bytes'), 'gauge');
    perNamespace('kvc_lookup_keys_total', 'Keys asked by Lookup on this member, per namespace.', (n) => lookupFigures(n, 'keys'), 'counter');
    perNamespace('kvc_lookup_hits_total', 'Keys Lookup found stored (the matched prefix), per namespace.', (n) => lookupFigures(n, 'hits'), 'counter');
    perNamespace('kvc_lookup_misses_total', 'Keys Lookup asked and did not find, per namespace.', (n) => lookupFigures(n, 'misses'), 'counter');

    const counter = (name: string, help: string, read: () => number | undefined): void => {
      let last = 0;
      new client.Counter({
        name,
        help,
        registers: [registry],
        collect() {
          const value = read();
          if (value === undefined) return;
          // A figure that went back (a store replaced by an older image) starts the counter over.
          if (value < last) this.reset();
          this.inc(value < last ? value : value - last);
          last = value;
        },
      });
    };
    const ofNode = (read: (n: ClusterNode) => number) => () => {
      const n = node();
      return n === undefined ? undefined : read(n);
    };
    counter('kvc_evicted_pages_total', 'Pages removed by eviction (replicated counter).', ofNode((n) => n.status().evictedPages));
    counter('kvc_evicted_bytes_total', 'Payload bytes removed by eviction (replicated counter).', ofNode((n) => n.status().evictedBytes));
    counter('kvc_expired_pages_total', 'Pages removed by TTL expiry (replicated counter).', ofNode((n) => n.status().expiredPages));
    counter('kvc_memory_tier_hits_total', 'Page reads served from the memory tier.', ofNode((n) => n.memoryTierStats().hits));
    counter('kvc_memory_tier_misses_total', 'Page reads the memory tier did not hold.', ofNode((n) => n.memoryTierStats().misses));
    counter('kvc_memory_tier_corrupt_hits_total', 'Cached copies that failed their crc32c when read, dropped and read from LevelDB.', ofNode((n) => n.memoryTierStats().corruptHits));
    counter('kvc_blob_gc_runs_total', 'Blob files rewritten by GC.', ofNode((n) => n.store.blobStats().gcRuns));
    counter('kvc_snapshots_sent_total', 'Store images this member streamed to followers.', ofNode((n) => n.status().snapshotsSent));
    counter('kvc_snapshots_installed_total', 'Store images this member installed.', ofNode((n) => n.status().snapshotsInstalled));
    counter('kvc_peer_messages_sent_total', 'Raft messages written to peer streams.', () => sources.peers().sent);
    counter('kvc_peer_messages_dropped_total', 'Raft messages dropped on the sending side (no address, not connected, outbox full).', () => sources.peers().dropped);
    counter('kvc_peer_messages_received_total', 'Raft messages received from peers.', () => sources.peers().received);
    counter('kvc_peer_messages_rejected_total', 'Raft messages received and rejected (undecodable, misaddressed).', () => sources.peers().rejected);
    counter('kvc_peer_socket_lanes_opened_total', 'Connections of the socket lane (appends to a follower over TCP of their own) that became ready.', () => sources.peers().socketLanesOpened);
    counter('kvc_peer_socket_lanes_refused_total', 'Times a peer refused the socket lane (an older member): its appends went back to gRPC.', () => sources.peers().socketLanesRefused);
  }

  /** For MemberContext.onCall. */
  callDone(method: string, code: string, seconds: number): void {
    this.#calls.inc({ method, code });
    this.#callSeconds.observe({ method }, seconds);
  }

  /** For MemberContext.onTransfer. */
  transferred(direction: 'in' | 'out', bytes: number): void {
    this.#transferPages.inc({ direction });
    this.#transferBytes.inc({ direction }, bytes);
  }

  /** Serves GET /metrics on `address` ("host:port", port 0 picks one); resolves with the URL. */
  async listen(address: string): Promise<MetricsServer> {
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(address.slice(colon + 1));
    const server = http.createServer((req, res) => void this.#answer(req, res));
    server.requestTimeout = SCRAPE_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new Error(`cannot serve metrics on ${address}: ${error.message}`, { cause: error })));
      server.listen({ host, port }, resolve);
    });
    const bound = server.address() as AddressInfo;
    const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    return {
      url: `http://${urlHost}:${bound.port}/metrics`,
      close: () => new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    };
  }

  async #answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    try {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`);
    }
  }
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Per-label running totals for counters read as absolute values. */
class MonotonicTotals {
  readonly #last = new Map<string, number>();

  /** The increment since the last reading of `key` (its whole value after the counter restarted). */
  next(key: string, value: number): number {
    const last = this.#last.get(key) ?? 0;
    this.#last.set(key, value);
    return value >= last ? value - last : value;
  }
}

function namespaceFigures(n: ClusterNode, field: 'pages' | 'bytes'): Map<string, number> {
  const out = new Map<string, number>();
  for (const [ns, stats] of Object.entries(n.store.stats().namespaces)) out.set(ns, stats[field]);
  return out;
}

function lookupFigures(n: ClusterNode, field: 'keys' | 'hits' | 'misses'): Map<string, number> {
  const out = new Map<string, number>();
  for (const ns of n.lookupStatsNamespaces()) {
    const s = n.lookupStats(ns);
    out.set(ns, field === 'misses' ? s.keys - s.hits : s[field]);
  }
  return out;
}

/** The first METRICS_NAMESPACES_MAX namespaces by name; the rest summed as "(other)". */
function capNamespaces(values: Map<string, number>): Map<string, number> {
  if (values.size <= METRICS_NAMESPACES_MAX) return values;
  const names = [...values.keys()].sort();
  const out = new Map<string, number>();
  let other = 0;
  for (const [i, ns] of names.entries()) {
    if (i < METRICS_NAMESPACES_MAX) out.set(ns, values.get(ns)!);
    else other += values.get(ns)!;
  }
  out.set('(other)', other);
  return out;
}
