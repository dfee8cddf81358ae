// What the service handlers of one member share: its node (set once it has started), its
// addresses, the logger, its work pool for CPU-heavy steps (src/workers/pool.ts), and the helpers
// every handler uses to find the node, insist on leadership, honour a call's deadline and map
// errors. Handlers never touch a node that is not started or already stopped; such a member
// answers UNAVAILABLE like one without a leader.
import type * as grpc from '@grpc/grpc-js';
import type { ClusterNode } from '../node/index.js';
import { NONE, type NodeId } from '../raft/index.js';
import { KvcError } from '../errors.js';
import { AccessPolicy } from './auth.js';
import { WorkPool } from '../workers/index.js';
import type { SharedArena, SharedLeases } from '../store/index.js';
import type { CallSpan, MemberTracing } from '../tracing/index.js';
import { KVC_CODE_TRAILER, toServiceError, type ServiceErrorObject } from './errors.js';

/** How long a request may wait for a proposal or a read index when its call has no deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Time kept back from a call's deadline, so the handler's own error arrives before the client gives up. */
const DEADLINE_MARGIN_MS = 20;

export interface MemberContextOptions {
  id: NodeId;
  address: () => string;
  addressOf: (id: NodeId) => string | undefined;
  log: (line: string) => void;
  /** The member's effective configuration for GetConfig (never contains the admin token). */
  config: () => Record<string, unknown>;
  adminToken?: string;
  /** Who may call CacheService and AdminService (auth.ts); default: everyone. */
  access?: AccessPolicy;
  /** The member serves TLS: PeerService calls must carry a member's certificate (auth.ts authorizePeer). */
  peerCertificates?: boolean;
  /** Worker threads for put preparation (checksums, dtype conversion); default: none, all inline. */
  pool?: WorkPool;
  /** Leases of same-host readers (shared-transfer.ts); absent when the arena is not shared. */
  sharedLeases?: SharedLeases;
  /** Names of the test-only switches that are on (Status lists them); default none. */
  unsafeTestSwitches?: string[];
  /** Told of every finished call: method, `OK` or its KVC_* code, seconds (metrics). */
  onCall?: (method: string, code: string, seconds: number) => void;
  /** Told of every page received by PutPages (`in`) and sent by GetPages (`out`), with its payload bytes (metrics). */
  onTransfer?: (direction: TransferDirection, bytes: number) => void;
  /** Spans of CacheService calls (call-tracing.ts); absent when the config has no `tracing`. */
  tracing?: MemberTracing;
}

/** A page's payload received from a client (PutPages) or sent to one (GetPages). */
export type TransferDirection = 'in' | 'out';

export class MemberContext {
  readonly id: NodeId;
  readonly log: (line: string) => void;
  readonly adminToken: string | undefined;
  readonly access: AccessPolicy;
  readonly peerCertificates: boolean;
  readonly pool: WorkPool;
  readonly sharedLeases: SharedLeases | undefined;
  readonly unsafeTestSwitches: readonly string[];
  readonly tracing: MemberTracing | undefined;
  readonly #options: MemberContextOptions;
  #sharedArena: SharedArena | null | undefined;
  #node: ClusterNode | undefined;
  readonly startedAtMs = Date.now();
  /** Where this member serves /metrics ('' when it does not); set once its listener is up. */
  metricsUrl = '';
  /** Told of a page a read found damaged (KVC_CHECKSUM_MISMATCH), so it is repaired from a peer. */
  onDamagedPage: (ns: string, key: Uint8Array) => void = () => undefined;

  constructor(options: MemberContextOptions) {
    this.id = options.id;
    this.log = options.log;
    this.adminToken = options.adminToken;
    this.access = options.access ?? new AccessPolicy(options.adminToken === undefined ? {} : { adminToken: options.adminToken });
    this.peerCertificates = options.peerCertificates ?? false;
    this.pool = options.pool ?? WorkPool.inline();
    this.sharedLeases = options.sharedLeases;
    this.unsafeTestSwitches = options.unsafeTestSwitches ?? [];
    this.tracing = options.tracing;
    this.#options = options;
  }

  /**
   * The node's shared arena (nonce and files), or null when its arena is not shared or there are
   * no leases to hand out. Read once: the tier, and so its files, live as long as the node.
   */
  sharedArena(node: ClusterNode): SharedArena | null {
    if (this.sharedLeases === undefined) return null;
    this.#sharedArena ??= node.memoryTierStats().shared;
    return this.#sharedArena;
  }

  setNode(node: ClusterNode): void {
    this.#node = node;
  }

  get address(): string {
    return this.#options.address();
  }

  addressOf(id: NodeId): string | undefined {
    return id === this.id ? this.address : this.#options.addressOf(id);
  }

  /**
   * Whether `id` is a member of the current configuration: a voter or learner of the node's
   * applied configuration, or a member whose address this member knows (the config's members,
   * and those added since; a removed member's address is forgotten).
   */
  isMember(id: NodeId): boolean {
    if (id === NONE) return false;
    if (this.addressOf(id) !== undefined) return true;
    const node = this.#node;
    if (node === undefined || node.stopped) return false;
    const { voters, learners } = node.status();
    return voters.includes(id) || learners.includes(id);
  }

  config(): Record<string, unknown> {
    return this.#options.config();
  }

  /** The node once started (even if stopped since); undefined before. Never throws. */
  get node(): ClusterNode | undefined {
    return this.#node;
  }

  /** The node once started, even if it has stopped since (Status reports a stopped member). */
  startedNode(): ClusterNode {
    const node = this.#node;
    if (node === undefined) throw new KvcError('KVC_NO_LEADER', { detail: `member ${this.id} is starting` });
    return node;
  }

  /** The node, or KVC_NO_LEADER (UNAVAILABLE) while it is starting or after it stopped. */
  requireNode(): ClusterNode {
    const node = this.startedNode();
    if (node.stopped) throw new KvcError('KVC_NO_LEADER', { detail: `member ${this.id} is stopped` });
    return node;
  }

  /** The node if it leads; otherwise KVC_NOT_LEADER / KVC_NO_LEADER (with the leader trailer). */
  requireLeader(): ClusterNode {
    const node = this.requireNode();
    if (node.isLeader()) return node;
    const leader = node.leader();
    if (leader === NONE) throw new KvcError('KVC_NO_LEADER', { detail: `member ${this.id} knows no leader yet` });
    const where = this.addressOf(leader);
    throw new KvcError('KVC_NOT_LEADER', { detail: `leader is member ${leader}${where ? ` at ${where}` : ''}` });
  }

  /** The current leader's address, when this member knows one. */
  leaderAddress(): string | undefined {
    const node = this.#node;
    if (node === undefined || node.stopped) return undefined;
    const leader = node.leader();
    return leader === NONE ? undefined : this.addressOf(leader);
  }

  /** Milliseconds a request may still wait: the call's deadline less a margin, or the default. */
  timeoutMs(call: { getDeadline(): grpc.Deadline }): number {
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    if (!Number.isFinite(deadlineMs)) return DEFAULT_REQUEST_TIMEOUT_MS;
    return Math.max(1, Math.min(DEFAULT_REQUEST_TIMEOUT_MS, deadlineMs - Date.now() - DEADLINE_MARGIN_MS));
  }

  serviceError(error: unknown, what: string): ServiceErrorObject {
    return toServiceError(error, { leaderAddress: () => this.leaderAddress(), log: this.log, what });
  }

  /** Records a page's payload received by PutPages or sent by GetPages (metrics). Never throws. */
  transferred(direction: TransferDirection, bytes: number): void {
    try {
      this.#options.onTransfer?.(direction, bytes);
    } catch {
      // Metrics must never fail a call.
    }
  }

  /**
   * Records a finished call of `method` begun at `startedMs` (performance.now()): `OK`, its KVC_*
   * code, or CANCELLED when the client went away first; ends the call's span, if it has one.
   * Never throws.
   */
  callDone(method: string, startedMs: number, outcome?: ServiceErrorObject | 'CANCELLED', span?: CallSpan): void {
    const onCall = this.#options.onCall;
    if (onCall === undefined && span === undefined) return;
    const code = outcome === undefined ? 'OK' : outcome === 'CANCELLED' ? outcome : String(outcome.metadata.get(KVC_CODE_TRAILER)[0] ?? 'KVC_INTERNAL');
    span?.end(code, typeof outcome === 'object' ? outcome.code : undefined);
    if (onCall === undefined) return;
    try {
      onCall(method, code, (performance.now() - startedMs) / 1000);
    } catch {
      // Metrics must never fail a call.
    }
  }
}
