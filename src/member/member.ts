// One running member: a ClusterNode behind one gRPC server that serves CacheService,
// AdminService, PeerService, grpc.health.v1 and server reflection on one address. This is what
// `kvc start` runs and what the tests start in-process.
//
// Start order: bind the server first (with port 0 the real port is only known then, and peers
// must be told the advertised address), then open the node. Requests that arrive in between are
// answered UNAVAILABLE and peer messages dropped; health says NOT_SERVING until the node is up.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { MemberMetrics, type MetricsServer } from '../metrics/index.js';
import { trimAllocator, warnOnceIfFallback } from '../native/index.js';
import { WorkPool, defaultWorkerThreads } from '../workers/index.js';
import { ClusterNode, type NodeConfig } from '../node/index.js';
import { SharedLeases, type MemoryTierConfig, type SharedLeaseOptions } from '../store/index.js';
import type { TracingOptions } from '../tracing/index.js';
import { LIMITS } from '../limits.js';
import { ConfChangeType, type ConfChange, type ConfState, type NodeId } from '../raft/index.js';
import { PayloadRepair } from './payload-repair.js';
import { trimWhenQuiet } from './allocator-trim.js';
import { collectWhenIdle } from './heap-tuning.js';
import {
  ADDRESS_BOOK_FILE,
  AccessPolicy,
  AddressBook,
  acceptPeerSockets,
  PutLaneServer,
  GrpcTransport,
  MemberCertificates,
  MemberContext,
  PeerService,
  SERVICE_NAMES,
  adminServiceHandlers,
  cacheServiceHandlers,
  createServer,
  loadProtos,
  reflectionPackageDefinition,
  type TlsFiles,
  type TokenGrant,
} from '../rpc/index.js';

export interface MemberOptions {
  id: number;
  /** "host:port" to bind; port 0 picks a free port (tests). */
  listen: string;
  /** The address other members and clients use; default: `listen` with the bound port. */
  advertise?: string;
  /** The initial membership with every member's address (a joining member lists the existing ones too). */
  members: { id: number; address: string }[];
  /** A member added later (AddMember): it starts with no membership and learns it from the leader. */
  join?: boolean;
  dataDir: string;
  node?: Partial<Omit<NodeConfig, 'id' | 'dataDir' | 'transport' | 'initialVoters'>>;
  /**
   * When set, AdminService calls need metadata `authorization: Bearer <token>` (or a token of
   * `tokens` with the admin scope).
   */
  adminToken?: string;
  /**
   * Bearer tokens (stored as sha256) with their scopes and namespaces (auth.ts). When there are
   * any, every CacheService and AdminService call needs one; none: CacheService is open.
   */
  tokens?: TokenGrant[];
  /**
   * Serve TLS with these files and talk to peers over mutual TLS; PeerService then takes only
   * members' certificates from this CA. Unset: plaintext (loopback, or a config that says so).
   */
  tls?: TlsFiles;
  /**
   * "host:port" to serve Prometheus metrics on (GET /metrics; port 0 picks a free one, reported
   * in Status as metricsUrl). Unset: no metrics listener and no metric bookkeeping.
   */
  metricsAddress?: string;
  /** Export OpenTelemetry spans over OTLP/HTTP (docs/TRACING.md). Unset: no spans, the tracing code is not even loaded. */
  tracing?: TracingOptions;
  logger?: (line: string) => void;
  /**
   * Worker threads for the CPU-heavy steps of puts (checksums and dtype conversion of large
   * pages); 0 = no pool, everything runs on the event loop. Default: cores - 1, at least 1, at
   * most 2 (defaultWorkerThreads). Threads start only with the first large page and exit when idle.
   */
  workerThreads?: number;
  /**
   * The memory tier (pinned arena above LevelDB): its bytes (0 disables it) and, optionally, the
   * one NUMA node to put it all on (default: split over every node). Default: the node's small
   * LIMITS.memoryTier.smallArenaBytes (32 MiB), so tests that start many members stay light;
   * `kvc start` passes the config's value (LIMITS.memoryTier.arenaBytes, 256 MiB, unless set).
   */
  memoryTier?: MemberMemoryTier;
  /**
   * Bounds of the same-host leases when the arena is shared (default LIMITS.sharedMemory; tests
   * shorten leaseMs and the bounds).
   */
  sharedLeases?: Partial<Pick<SharedLeaseOptions, 'leasesMax' | 'leasesPerClientMax' | 'leaseMs'>>;
  /** Names of the test-only switches this member runs with (src/cli/unsafe-switches.ts), listed in Status. */
  unsafeTestSwitches?: string[];
}

/**
 * The memory tier of a member: MemoryTierConfig, where the shared-memory file name may be left
 * out (it is then derived from the member id and data directory, so it is the same at every
 * start of this member and a crashed run's file is found and replaced).
 */
export type MemberMemoryTier = Omit<MemoryTierConfig, 'sharedMemory'> & { sharedMemory?: { dir: string; name?: string } };

export interface RunningMember {
  id: number;
  /** The advertised address. */
  address: string;
  node: ClusterNode;
  transport: GrpcTransport;
  /** Stops the node, the peer streams and the server. Safe to call more than once. */
  stop(): Promise<void>;
  /**
   * Reads the TLS files again: new connections (clients' and peers') get the new certificate.
   * Resolves false for a plaintext member; throws (keeping the old files in use) on a bad file.
   */
  reloadCertificates(): Promise<boolean>;
}

/** How long stop() lets in-flight calls finish before it cuts them. */
const SHUTDOWN_GRACE_MS = 2_000;
/** How often health looks whether the node stopped on its own. */
const HEALTH_WATCH_MS = 500;
const UNSPECIFIED_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]', '']);

export async function startMember(o: MemberOptions): Promise<RunningMember> {
  checkOptions(o);
  const log = o.logger ?? (() => undefined);
  // Once per process: a member on the TypeScript paths still works, but slower, and says why.
  warnOnceIfFallback(log);
  await mkdir(o.dataDir, { recursive: true });
  const book = await AddressBook.load(path.join(o.dataDir, ADDRESS_BOOK_FILE), log);
  for (const m of o.members) book.set(m.id, m.address);
  const certificates = o.tls === undefined ? undefined : await MemberCertificates.load(o.tls);
  const transport = new GrpcTransport({ addresses: book, logger: log, ...(certificates !== undefined ? { certificates } : {}) });
  // Workers pin themselves to the CPUs of the arena's NUMA node (node 0 when the arena has none).
  const pool = new WorkPool({ threads: o.workerThreads ?? defaultWorkerThreads(), numaNode: o.memoryTier?.numaNode ?? 0, log });
  let node: ClusterNode | undefined;
  const metrics = o.metricsAddress === undefined ? undefined : new MemberMetrics({ id: o.id, node: () => node, peers: () => transport.counters });
  let address = '';
  const tracing = o.tracing === undefined ? undefined : new (await import('../tracing/index.js')).MemberTracing(o.id, o.tracing, log);
  const sharedLeases = o.memoryTier?.sharedMemory === undefined ? undefined : new SharedLeases({ ...LIMITS.sharedMemory, ...o.sharedLeases });
  const ctx = new MemberContext({
    id: o.id,
    address: () => address,
    addressOf: (id) => book.get(id),
    log,
    config: () => describeConfig(o, address, book),
    pool,
    unsafeTestSwitches: o.unsafeTestSwitches ?? [],
    ...(o.adminToken !== undefined ? { adminToken: o.adminToken } : {}),
    access: new AccessPolicy({ ...(o.tokens !== undefined ? { tokens: o.tokens } : {}), ...(o.adminToken !== undefined ? { adminToken: o.adminToken } : {}) }),
    peerCertificates: certificates !== undefined,
    ...(sharedLeases !== undefined ? { sharedLeases } : {}),
    ...(metrics !== undefined ? { onCall: (method: string, code: string, seconds: number) => metrics.callDone(method, code, seconds) } : {}),
    ...(metrics !== undefined ? { onTransfer: (direction: 'in' | 'out', bytes: number) => metrics.transferred(direction, bytes) } : {}),
    ...(tracing !== undefined ? { tracing } : {}),
  });
  const { server, health, peer } = buildServer(ctx, transport);
  const credentials = certificates?.serverCredentials() ?? grpc.ServerCredentials.createInsecure();
  const port = await bind(server, o.listen, credentials).catch(async (error: unknown) => {
    transport.close();
    await pool.close();
    throw error;
  });
  // Followers take their leader's appends on the member port over a socket of their own (src/rpc peer-socket.ts), and clients their puts (put-lane.ts).
  const putLanes = new PutLaneServer(ctx, certificates === undefined ? undefined : () => certificates.pem);
  acceptPeerSockets(server, (socket) => peer.acceptSocket(socket, certificates?.pem), [putLanes]);
  address = o.advertise ?? `${hostOf(o.listen)}:${port}`;
  transport.setSelfAddress(address);
  book.set(o.id, address);
  let metricsServer: MetricsServer | undefined;
  try {
    if (metrics !== undefined) {
      metricsServer = await metrics.listen(o.metricsAddress!);
      ctx.metricsUrl = metricsServer.url;
    }
    node = await ClusterNode.start({ ...nodeConfig(o, transport, book, pool), ...(metrics !== undefined ? { observer: metrics.observer } : {}), ...(tracing !== undefined ? { tracer: tracing.tracer } : {}) });
  } catch (error) {
    transport.close();
    peer.endStreams();
    putLanes.close();
    server.forceShutdown();
    await metricsServer?.close();
    await pool.close();
    throw error;
  }
  const started = node;
  ctx.setNode(started);
  setHealth(health, 'SERVING');
  // A node stops on its own after a fatal error (a failed disk write); health must say so.
  const watch = setInterval(() => {
    if (!started.stopped) return;
    clearInterval(watch);
    setHealth(health, 'NOT_SERVING');
    log(`member ${o.id} is NOT_SERVING: its node stopped${started.fatalError ? ` (${started.fatalError.message})` : ''}`);
  }, HEALTH_WATCH_MS);
  watch.unref();
  const repair = new PayloadRepair({
    node: started,
    peers: () => book.entries().filter(([id]) => id !== o.id).map(([, peerAddress]) => peerAddress),
    log,
    ...(certificates === undefined ? {} : { tls: () => certificates.pem }),
  });
  repair.start();
  ctx.onDamagedPage = (ns, key) => repair.report(ns, key);
  // Leases also expire on every grant and release; the timer ends those of an idle member.
  const expiry = sharedLeases === undefined ? undefined : setInterval(() => sharedLeases.expire(), Math.max(50, Math.floor(sharedLeases.leaseMs / 4)));
  expiry?.unref();
  // Free heap pages go back to the kernel (LIMITS.allocator): bounds the member's RSS after bursts.
  const trim = setInterval(
    trimWhenQuiet(() => started.store.appliedIndex(), () => trimAllocator()),
    LIMITS.allocator.trimIntervalMs,
  );
  trim.unref();
  // With the heap tuning of `kvc start`, what V8 let grow is collected once idle (heap-tuning.ts).
  const idleGc = setInterval(
    collectWhenIdle(() => trimAllocator()),
    LIMITS.allocator.idleGcIntervalMs,
  );
  idleGc.unref();
  log(`member ${o.id} serving at ${address} (listening on ${o.listen}, port ${port}, ${certificates ? 'TLS' : 'plaintext'})${metricsServer ? `, metrics at ${metricsServer.url}` : ''}`);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(watch);
      clearInterval(expiry);
      clearInterval(trim);
      clearInterval(idleGc);
      setHealth(health, 'NOT_SERVING');
      // The arena's memory goes back only once no lease holds a slot of it.
      sharedLeases?.close();
      await repair.stop();
      await started.stop();
      transport.close();
      peer.endStreams();
      putLanes.close();
      await book.flushed();
      await shutdown(server);
      await metricsServer?.close();
      await pool.close();
      // The last spans (the proposals just failed by the stop among them) leave before it returns.
      await tracing?.shutdown();
      log(`member ${o.id} stopped`);
    })();
    return stopping;
  };
  const reloadCertificates = async (): Promise<boolean> => {
    if (certificates === undefined) return false;
    await certificates.reload();
    log(`member ${o.id} reloaded its TLS files: now serving certificate ${certificates.serial}`);
    return true;
  };
  return { id: o.id, address, node: started, transport, stop, reloadCertificates };
}

function checkOptions(o: MemberOptions): void {
  if (!Number.isSafeInteger(o.id) || o.id < 1) throw new Error(`member id must be a positive integer, got ${o.id}`);
  for (const m of o.members) {
    if (!Number.isSafeInteger(m.id) || m.id < 1) throw new Error(`members: id must be a positive integer, got ${m.id}`);
  }
  if (!o.join && !o.members.some((m) => m.id === o.id)) {
    throw new Error(`members must include this member (${o.id}) unless it joins an existing cluster`);
  }
  if (o.advertise === undefined && UNSPECIFIED_HOSTS.has(hostOf(o.listen))) {
    throw new Error(`listen ${o.listen} binds every interface: set advertise to the address peers and clients should use`);
  }
}

function hostOf(hostPort: string): string {
  const colon = hostPort.lastIndexOf(':');
  return colon === -1 ? hostPort : hostPort.slice(0, colon);
}

function nodeConfig(o: MemberOptions, transport: GrpcTransport, book: AddressBook, pool: WorkPool): NodeConfig {
  const userOnConfChange = o.node?.onConfChange;
  const logger = o.node?.logger ?? o.logger;
  const decoder = new TextDecoder();
  return {
    ...o.node,
    id: o.id,
    dataDir: o.dataDir,
    transport,
    initialVoters: o.join ? [] : o.members.map((m) => m.id),
    ...(o.memoryTier !== undefined ? { memoryTier: memoryTierConfig(o.id, o.dataDir, o.memoryTier) } : {}),
    snapshotChecksums: pool,
    // Addresses of members added at run time travel in their ConfChange's context.
    onConfChange: (cc: ConfChange, cs: ConfState) => {
      if (cc.type === ConfChangeType.RemoveNode) {
        if (cc.nodeId !== o.id) book.delete(cc.nodeId);
      } else if (cc.context.byteLength > 0 && cc.nodeId !== o.id) {
        book.set(cc.nodeId, decoder.decode(cc.context));
      }
      userOnConfChange?.(cc, cs);
    },
    ...(logger !== undefined ? { logger } : {}),
  };
}

/** Fills in the shared-memory file name: `kvc-n<id>-<first 12 hex of sha256(data dir)>`. */
export function memoryTierConfig(id: number, dataDir: string, tier: MemberMemoryTier): MemoryTierConfig {
  const { sharedMemory, ...rest } = tier;
  if (sharedMemory === undefined) return rest;
  const name = sharedMemory.name ?? `kvc-n${id}-${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)}`;
  return { ...rest, sharedMemory: { dir: sharedMemory.dir, name } };
}

function buildServer(ctx: MemberContext, transport: GrpcTransport): { server: grpc.Server; health: HealthImplementation; peer: PeerService } {
  const protos = loadProtos();
  const server = createServer();
  const peer = new PeerService(ctx, transport);
  server.addService(protos.cache, cacheServiceHandlers(ctx));
  server.addService(protos.admin, adminServiceHandlers(ctx));
  server.addService(protos.peer, peer.handlers());
  const health = new HealthImplementation();
  setHealth(health, 'NOT_SERVING');
  health.addToServer(server);
  new ReflectionService(reflectionPackageDefinition(healthProtoPath)).addToServer(server);
  return { server, health, peer };
}

function setHealth(health: HealthImplementation, status: ServingStatus): void {
  // '' is the whole server (what a plain health check asks); each service is listed too.
  for (const service of ['', ...Object.values(SERVICE_NAMES)]) health.setStatus(service, status);
}

function bind(server: grpc.Server, listen: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(listen, credentials, (error, port) => {
      if (error !== null) return reject(new Error(`cannot listen on ${listen}: ${error.message}`, { cause: error }));
      return resolve(port);
    });
  });
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function describeConfig(o: MemberOptions, address: string, book: AddressBook): Record<string, unknown> {
  const { logger: _logger, onConfChange: _onConfChange, walFiles: _walFiles, ...node } = o.node ?? {};
  return {
    id: o.id,
    listen: o.listen,
    address,
    join: o.join ?? false,
    dataDir: o.dataDir,
    members: book.entries().map(([id, memberAddress]: [NodeId, string]) => ({ id, address: memberAddress })),
    node,
    ...(o.memoryTier !== undefined ? { memoryTier: o.memoryTier } : {}),
    ...(o.workerThreads !== undefined ? { workerThreads: o.workerThreads } : {}),
    adminTokenSet: o.adminToken !== undefined,
    tokens: (o.tokens ?? []).map((t) => ({ ...(t.name !== undefined ? { name: t.name } : {}), scopes: t.scopes, namespaces: t.namespaces })),
    ...(o.tls !== undefined ? { tls: o.tls } : {}),
    ...(o.tracing !== undefined ? { tracing: o.tracing } : {}),
    pid: process.pid,
  };
}
