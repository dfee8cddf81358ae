// The member's part in keeping the cache within its capacity (DESIGN §6). Everything that changes
// replicated state goes through the log as a command the leader proposes; this class only
// decides what to propose and keeps the member-local recency hints.
//
// On the leader:
//   - before a put is proposed, `beforePut` projects the stored bytes (applied + puts in flight
//     - evictions in flight) and, when the put would pass the budget or its namespace's quota,
//     plans evictions (src/store/eviction-planner.ts) down to the low watermark and returns them,
//     so the node puts them ahead of the put in the log. A put is refused (by the apply, with
//     KVC_QUOTA_EXHAUSTED) only when the plan could not free enough: `heldBack` says why;
//   - every `checkIntervalMs`, `tick` evicts down to the low watermark once the high one is
//     passed (budget and quotas), deletes pages whose TTL ran out (`expire`), and, when the
//     replicated settings were never set, proposes the config file's values (bootstrap).
// On every member: lookups and reads mark pages in the index as accessed (and leased); a
// follower sends those accesses to the leader at least once a second, at once when a lease was
// taken. A member never deletes anything on its own clock.

import { steadyWallClockMs } from '../clock.js';
import type { AccessReport, Command, PageMeta, SettingChange, SettingKey } from '../codec/index.js';
import { decodeAccessReport, encodeAccessReport, SETTING_KEYS } from '../codec/index.js';
import { LIMITS } from '../limits.js';
import { NONE, type NodeId } from '../raft/index.js';
import {
  DEFAULT_SETTINGS,
  bytesOfLatin1,
  describeHeldBack,
  latin1,
  nextUseSeq,
  pageId,
  planEviction,
  type ApplyResult,
  type HeldBack,
  type IndexedPage,
  type PageStore,
  type Plan,
} from '../store/index.js';

/** The capacity settings a member's config file asks for (absent keys: the built-in defaults). */
export type CapacityConfig = Partial<Record<SettingKey, number>>;

export interface CapacityHost {
  readonly id: NodeId;
  store(): PageStore;
  isLeader(): boolean;
  leader(): NodeId;
  /** Proposes a command as the leader (no put-path planning); resolves once applied here. */
  propose(command: Command): Promise<ApplyResult>;
  sendAccessReport(to: NodeId, report: Uint8Array): void;
  log(line: string): void;
}

export interface PutReservation {
  /** Commands to propose ahead of the put, in order. */
  ahead: Command[];
  /** Set when the planner could not free enough: what held candidates back. */
  heldBack: HeldBack | undefined;
  /** Call once the put settled (applied, refused or failed). */
  release(): void;
}

export interface CapacityCounters {
  /** Access records dropped because a report was full. */
  accessesDropped: number;
  /** Access reports received and rejected (undecodable). */
  reportsRejected: number;
}

interface PendingAccess {
  ns: string;
  key: Uint8Array;
  atMs: number;
  leaseUntilMs: number;
}

export class CapacityKeeper {
  readonly #host: CapacityHost;
  readonly #configured: CapacityConfig;
  readonly #now: () => number;
  /** Pages proposed for eviction or expiry and not applied yet (pageId -> page). */
  readonly #leaving = new Map<string, IndexedPage>();
  /** Puts proposed and not settled: bytes per namespace and the parents they name. */
  readonly #inflight = new Map<number, { ns: string; bytes: number; parents: string[] }[]>();
  #reservationSeq = 0;
  #bootstrapping = false;
  readonly #warned = new Set<string>();
  #lastExpiryScanMs = 0;
  #lastReportMs = 0;
  /**
   * A follower's accesses not yet reported, by the indexed page (no id string to build per matched
   * key of a Lookup) or, for a key not in the index, by its page id. A page replaced between two
   * reports may then be reported twice, which the leader reads as the later of the two accesses.
   */
  readonly #pendingAccesses = new Map<IndexedPage | string, PendingAccess>();
  readonly counters: CapacityCounters = { accessesDropped: 0, reportsRejected: 0 };

  constructor(host: CapacityHost, configured: CapacityConfig, now: () => number = steadyWallClockMs) {
    this.#host = host;
    this.#configured = configured;
    this.#now = now;
  }

  // ---- the put path (leader) --------------------------------------------------------------

  beforePut(metas: PageMeta[]): PutReservation {
    const store = this.#host.store();
    const fresh = metas.filter((m) => store.index.get(m.ns, m.key) === undefined);
    const token = ++this.#reservationSeq;
    const entries = fresh.map((m) => ({ ns: m.ns, bytes: m.bytes, parents: m.parentKey === undefined ? [] : [pageId(m.ns, latin1(m.parentKey))] }));
    const ahead: Command[] = [];
    let heldBack: HeldBack | undefined;
    const newBytes = sum(entries.map((e) => e.bytes));
    if (newBytes > 0) heldBack = this.#makeRoom(undefined, store.settings().budgetBytes, newBytes, ahead);
    for (const ns of new Set(entries.map((e) => e.ns))) {
      const quota = store.namespaceSettings(ns).quotaBytes;
      if (quota > 0) heldBack = this.#makeRoom(ns, quota, sum(entries.filter((e) => e.ns === ns).map((e) => e.bytes)), ahead) ?? heldBack;
    }
    this.#inflight.set(token, entries);
    return { ahead, heldBack, release: () => this.#inflight.delete(token) };
  }

  /**
   * When `newBytes` more would take `ns` (or the whole store) past `limitBytes`, plans evictions
   * down to the low watermark of that limit and adds them to `ahead`; returns what held pages
   * back when the plan cannot free even what the put needs.
   */
  #makeRoom(ns: string | undefined, limitBytes: number, newBytes: number, ahead: Command[]): HeldBack | undefined {
    const projected = this.#projectedBytes(ns);
    const need = projected + newBytes - limitBytes;
    if (need <= 0) return undefined;
    const lowBytes = Math.floor(this.#host.store().settings().lowWatermark * limitBytes);
    const plan = this.#plan(ns, Math.max(need, projected + newBytes - lowBytes));
    ahead.push(...this.#evictCommands(plan));
    return plan.bytes < need ? plan.heldBack : undefined;
  }

  /** The refusal message of a put the apply refused for lack of room, with what held pages back. */
  static refusalMessage(message: string, heldBack: HeldBack | undefined): string {
    return heldBack === undefined ? message : `${message}; ${describeHeldBack(heldBack)}`;
  }

  // ---- periodic work ----------------------------------------------------------------------

  /**
   * Called when this member has just become leader: the settings bootstrap goes out at once, so
   * it lands right after the election, before the puts of a new cluster, not a tick later.
   */
  becameLeader(): void {
    if (this.#host.isLeader()) this.#bootstrapSettings();
  }

  /** Called every LIMITS.eviction.checkIntervalMs by the node. */
  tick(): void {
    if (this.#host.isLeader()) {
      this.#bootstrapSettings();
      this.#evictPastHighWatermarks();
      this.#expire();
    } else {
      this.#leaving.clear();
      this.#inflight.clear();
      this.#bootstrapping = false;
      this.#flushAccesses(false);
    }
    this.#warnOnConfigMismatch();
  }

  #bootstrapSettings(): void {
    const settings = this.#host.store().settings();
    if (settings.replicated || this.#bootstrapping) return;
    this.#bootstrapping = true;
    const changes: SettingChange[] = SETTING_KEYS.map((key) => [key, this.#configured[key] ?? DEFAULT_SETTINGS[key]]);
    this.#host
      .propose({ op: 'set-config', changes })
      .then((result) => {
        if (result.ok) this.#host.log(`member ${this.#host.id}: replicated the capacity settings of its config file`);
        else this.#host.log(`member ${this.#host.id}: config file capacity settings refused: ${result.message}`);
      })
      .catch(() => undefined)
      .finally(() => (this.#bootstrapping = false));
  }

  #evictPastHighWatermarks(): void {
    const store = this.#host.store();
    this.#evictPastHighWatermark(undefined, store.settings().budgetBytes);
    for (const info of store.namespaces()) if (info.quotaBytes > 0) this.#evictPastHighWatermark(info.ns, info.quotaBytes);
  }

  /** Once `ns` (or the whole store) is past the high watermark of `limitBytes`, evicts down to the low one. */
  #evictPastHighWatermark(ns: string | undefined, limitBytes: number): void {
    const { highWatermark, lowWatermark } = this.#host.store().settings();
    const projected = this.#projectedBytes(ns);
    if (projected <= highWatermark * limitBytes) return;
    this.#proposeAll(this.#evictCommands(this.#plan(ns, projected - Math.floor(lowWatermark * limitBytes))));
  }

  /** Proposes `expire` for pages whose TTL ran out by the leader's clock (pinned ones wait). */
  #expire(): void {
    const now = this.#now();
    if (now - this.#lastExpiryScanMs < LIMITS.eviction.expiryScanIntervalMs) return;
    this.#lastExpiryScanMs = now;
    const store = this.#host.store();
    const clusterTtlMs = store.settings().defaultTtlMs;
    // Most clusters set no TTL at all: then there is nothing to scan for.
    if (clusterTtlMs === 0 && store.index.pagesWithTtl === 0 && store.namespaces().every((info) => info.defaultTtlMs === 0)) return;
    const expired: IndexedPage[] = [];
    for (const ns of store.index.namespaceNames()) {
      const ttlDefault = store.namespaceSettings(ns).defaultTtlMs || clusterTtlMs;
      for (const page of store.index.pagesOf(ns)) {
        const ttl = page.ttlMs || ttlDefault;
        if (ttl === 0 || page.createdAtMs + ttl > now || store.index.pinExpiry(page) > now) continue;
        if (this.#leaving.has(pageId(page.ns, page.keyId))) continue;
        expired.push(page);
        if (expired.length >= LIMITS.eviction.planKeysMax) break;
      }
      if (expired.length >= LIMITS.eviction.planKeysMax) break;
    }
    this.#proposeAll(this.#removeCommands('expire', expired));
  }

  #warnOnConfigMismatch(): void {
    const settings = this.#host.store().settings();
    if (!settings.replicated) return;
    for (const key of SETTING_KEYS) {
      const wanted = this.#configured[key];
      if (wanted === undefined || wanted === settings[key]) continue;
      const note = `${key}=${wanted}/${settings[key]}`;
      if (this.#warned.has(note)) continue;
      this.#warned.add(note);
      this.#host.log(
        `member ${this.#host.id}: its config file sets ${key} = ${wanted}, the cluster's replicated value is ${settings[key]}; following the replicated value (kvc config set changes it)`,
      );
    }
  }

  // ---- accesses ---------------------------------------------------------------------------

  /** Lookups (the matched prefix) and reads served by this member; `leaseMs` > 0 also leases them. */
  noteAccess(ns: string, keys: Uint8Array[], leaseMs = 0): void {
    if (keys.length === 0) return;
    const now = this.#now();
    const index = this.#host.store().index;
    const leader = this.#host.isLeader();
    for (const key of keys) {
      const page = index.get(ns, key);
      if (page !== undefined) touch(page, now, leaseMs);
      if (!leader) this.#queueAccess(page ?? pageId(ns, latin1(key)), ns, key, now, leaseMs > 0 ? now + leaseMs : 0);
    }
    // A lease must reach the leader before it plans again, not a report interval later.
    if (!leader && leaseMs > 0) this.#flushAccesses(true);
  }

  /** A Lookup's matched pages (`pages[i]` is `keys[i]`'s), as noteAccess without looking them up again. */
  noteMatched(pages: readonly IndexedPage[], keys: readonly Uint8Array[], leaseMs = 0): void {
    if (pages.length === 0) return;
    const now = this.#now();
    const leader = this.#host.isLeader();
    for (let i = 0; i < pages.length; i++) {
      const page = pages[i]!;
      touch(page, now, leaseMs);
      if (!leader) this.#queueAccess(page, page.ns, keys[i]!, now, leaseMs > 0 ? now + leaseMs : 0);
    }
    if (!leader && leaseMs > 0) this.#flushAccesses(true);
  }

  #queueAccess(id: IndexedPage | string, ns: string, key: Uint8Array, atMs: number, leaseUntilMs: number): void {
    const queued = this.#pendingAccesses.get(id);
    if (queued !== undefined) {
      queued.atMs = atMs;
      queued.leaseUntilMs = Math.max(queued.leaseUntilMs, leaseUntilMs);
      return;
    }
    if (this.#pendingAccesses.size >= LIMITS.eviction.accessReportKeysMax) {
      this.counters.accessesDropped++;
      return;
    }
    this.#pendingAccesses.set(id, { ns, key, atMs, leaseUntilMs });
  }

  #flushAccesses(now: boolean): void {
    const at = this.#now();
    if (this.#pendingAccesses.size === 0) return;
    if (!now && at - this.#lastReportMs < LIMITS.eviction.accessReportIntervalMs) return;
    const leader = this.#host.leader();
    if (leader === NONE || leader === this.#host.id) return;
    this.#lastReportMs = at;
    const report: AccessReport = new Map();
    for (const access of this.#pendingAccesses.values()) {
      let entries = report.get(access.ns);
      if (entries === undefined) report.set(access.ns, (entries = []));
      entries.push({ key: access.key, ageMs: Math.max(0, at - access.atMs), leaseMs: Math.max(0, access.leaseUntilMs - at) });
    }
    this.#pendingAccesses.clear();
    this.#host.sendAccessReport(leader, encodeAccessReport(report));
  }

  /** A follower's report: its accesses become this member's recency hints (relative times, our clock). */
  onAccessReport(from: NodeId, bytes: Uint8Array): void {
    let report: AccessReport;
    try {
      report = decodeAccessReport(bytes);
    } catch {
      this.counters.reportsRejected++;
      this.#host.log(`member ${this.#host.id}: dropped an undecodable access report from member ${from}`);
      return;
    }
    const now = this.#now();
    const index = this.#host.store().index;
    for (const [ns, entries] of report) {
      for (const entry of entries) {
        const page = index.get(ns, entry.key);
        if (page === undefined) continue;
        const accessedAtMs = now - entry.ageMs;
        if (accessedAtMs > page.accessedAtMs) {
          page.accessedAtMs = accessedAtMs;
          page.usedSeq = nextUseSeq();
        }
        const leaseMs = Math.min(entry.leaseMs, LIMITS.eviction.leaseMsMax);
        if (leaseMs > 0) page.leaseUntilMs = Math.max(page.leaseUntilMs, now + leaseMs);
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** Stored bytes (of `ns`, or of all) + puts in flight - removals in flight. */
  #projectedBytes(ns: string | undefined): number {
    const store = this.#host.store();
    let bytes = ns === undefined ? store.totalBytes() : store.namespaceBytes(ns);
    for (const entries of this.#inflight.values()) for (const e of entries) if (ns === undefined || e.ns === ns) bytes += e.bytes;
    for (const page of this.#leaving.values()) if (ns === undefined || page.ns === ns) bytes -= page.bytes;
    return bytes;
  }

  #plan(ns: string | undefined, needBytes: number): Plan {
    const store = this.#host.store();
    const incomingParents = new Set<string>();
    for (const entries of this.#inflight.values()) for (const e of entries) for (const parent of e.parents) incomingParents.add(parent);
    return planEviction({
      index: store.index,
      nowMs: this.#now(),
      graceMs: store.settings().evictionGraceMs,
      needBytes,
      ...(ns === undefined ? {} : { ns }),
      leaving: this.#leaving,
      incomingParents,
      keysMax: LIMITS.eviction.planKeysMax,
      bytesMax: LIMITS.eviction.planBytesMax,
    });
  }

  #evictCommands(plan: Plan): Command[] {
    return this.#removeCommands('evict', plan.victims);
  }

  /**
   * One command per namespace and at most commandKeysMax keys, in plan order (a child before its
   * parent). The pages count as leaving from now until their command settles.
   */
  #removeCommands(op: 'evict' | 'expire', pages: IndexedPage[]): Command[] {
    const commands: Command[] = [];
    let current: { op: 'evict' | 'expire'; ns: string; keys: Uint8Array[] } | undefined;
    for (const page of pages) {
      this.#leaving.set(pageId(page.ns, page.keyId), page);
      if (current === undefined || current.ns !== page.ns || current.keys.length >= LIMITS.eviction.commandKeysMax) {
        current = { op, ns: page.ns, keys: [] };
        commands.push(current);
      }
      current.keys.push(bytesOfLatin1(page.keyId));
    }
    return commands;
  }

  /** Proposes background commands; their pages stop counting as leaving once each settles. */
  #proposeAll(commands: Command[]): void {
    for (const command of commands) this.track(command, this.#host.propose(command));
  }

  /** Forgets the leaving pages of an evict/expire command once its proposal settled. */
  track(command: Command, settled: Promise<unknown>): void {
    if (command.op !== 'evict' && command.op !== 'expire') return;
    const ids = command.keys.map((key) => pageId(command.ns, latin1(key)));
    void settled
      .catch(() => undefined)
      .finally(() => {
        for (const id of ids) this.#leaving.delete(id);
      });
  }
}

function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** A page this member served or matched: accessed now, and leased `leaseMs` more when > 0. */
function touch(page: IndexedPage, now: number, leaseMs: number): void {
  page.accessedAtMs = Math.max(page.accessedAtMs, now);
  page.usedSeq = nextUseSeq();
  if (leaseMs > 0) page.leaseUntilMs = Math.max(page.leaseUntilMs, now + leaseMs);
}
