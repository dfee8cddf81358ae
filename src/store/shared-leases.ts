// Leases of the same-host read path: a GetPages with `transfer = SHARED_MEMORY` hands a client the
// place of a page in the shared arena (region, offset, length) instead of its bytes, and the slot
// must not be reused until the client has copied them. Each such answer holds a PageLease of the
// memory tier (a reference on the slot, exactly as a streamed read holds one while grpc-js
// serializes) under a lease id, until the client releases it (ReleasePages) or it expires.
//
// Bounds (src/limits.ts `sharedMemory`):
// - `leasesMax` leases in all. When they are all taken a page is streamed instead (grant answers
//   undefined): a read never fails because other clients hold leases.
// - `leasesPerClientMax` per client id: a client that keeps asking without releasing gets
//   KVC_TOO_MANY_LEASES, so one client cannot take every slot.
// - Every lease expires `leaseMs` after it was granted, so a client that died or forgot releases
//   nothing forever. A client that copies after expiry may read a reused slot: it finds out from
//   the crc32c of its copy, which it checks anyway (docs/CLIENT.md).
//
// Lease ids count up from 1 for the life of the registry (one member run); ids are not secrets,
// ownership is checked by client id. Leases expire in grant order (one leaseMs for all), so the
// map's insertion order is the expiry order and expiring costs only what it removes.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { KvcError } from '../errors.js';
import type { PageLease } from './memory-tier.js';

export interface SharedLeaseOptions {
  leasesMax: number;
  leasesPerClientMax: number;
  leaseMs: number;
  /** Monotonic milliseconds (default performance.now); tests drive expiry with their own clock. */
  now?: () => number;
}

export interface SharedLeaseStats {
  held: number;
  granted: number;
  released: number;
  expired: number;
  /** Pages streamed instead because every lease was taken. */
  refusedFull: number;
}

interface Held {
  readonly id: number;
  readonly clientId: string;
  readonly lease: PageLease;
  readonly expiresAtMs: number;
}

export class SharedLeases {
  readonly leasesMax: number;
  readonly leasesPerClientMax: number;
  readonly leaseMs: number;
  readonly #now: () => number;
  readonly #held = new Map<number, Held>();
  readonly #perClient = new Map<string, number>();
  #nextId = 1;
  #closed = false;
  #granted = 0;
  #released = 0;
  #expired = 0;
  #refusedFull = 0;

  constructor(o: SharedLeaseOptions) {
    for (const name of ['leasesMax', 'leasesPerClientMax', 'leaseMs'] as const) {
      assert.ok(Number.isSafeInteger(o[name]) && o[name] > 0, `shared leases: ${name} must be a positive integer`);
    }
    assert.ok(o.leasesPerClientMax <= o.leasesMax, 'shared leases: leasesPerClientMax must not exceed leasesMax');
    this.leasesMax = o.leasesMax;
    this.leasesPerClientMax = o.leasesPerClientMax;
    this.leaseMs = o.leaseMs;
    this.#now = o.now ?? (() => performance.now());
  }

  /**
   * Takes over `lease` (a tier lease with a location) for `clientId` and returns its id, or
   * undefined when every lease is taken (the caller streams the page and keeps its lease).
   * KVC_TOO_MANY_LEASES when the client holds its most.
   */
  grant(clientId: string, lease: PageLease): number | undefined {
    assert.ok(lease.fromTier && lease.location !== undefined, 'shared leases: only arena leases can be shared');
    this.expire();
    const mine = this.#perClient.get(clientId) ?? 0;
    if (mine >= this.leasesPerClientMax) {
      throw new KvcError('KVC_TOO_MANY_LEASES', { detail: `${mine} held, at most ${this.leasesPerClientMax} per client; release some (ReleasePages)` });
    }
    if (this.#closed || this.#held.size >= this.leasesMax) {
      this.#refusedFull++;
      return undefined;
    }
    const id = this.#nextId++;
    this.#held.set(id, { id, clientId, lease, expiresAtMs: this.#now() + this.leaseMs });
    this.#perClient.set(clientId, mine + 1);
    this.#granted++;
    return id;
  }

  /**
   * Releases `ids` of `clientId`. Every id that is the client's and live is released, whatever
   * the others are; then KVC_LEASE_NOT_OWNED if one belonged to another client (that lease stays),
   * else KVC_LEASE_UNKNOWN if one was unknown or had expired.
   */
  release(clientId: string, ids: readonly number[]): void {
    this.expire();
    const unknown: number[] = [];
    const notOwned: number[] = [];
    for (const id of ids) {
      const held = this.#held.get(id);
      if (held === undefined) unknown.push(id);
      else if (held.clientId !== clientId) notOwned.push(id);
      else this.#drop(held);
    }
    this.#released += ids.length - unknown.length - notOwned.length;
    if (notOwned.length > 0) throw new KvcError('KVC_LEASE_NOT_OWNED', { detail: `lease ids ${listed(notOwned)}` });
    if (unknown.length > 0) throw new KvcError('KVC_LEASE_UNKNOWN', { detail: `lease ids ${listed(unknown)}` });
  }

  /** Ends every lease past its time; returns how many. Called on each grant and release and by the member's timer. */
  expire(): number {
    const now = this.#now();
    let count = 0;
    for (const held of this.#held.values()) {
      if (held.expiresAtMs > now) break;
      this.#drop(held);
      count++;
    }
    this.#expired += count;
    return count;
  }

  /** Leases `clientId` holds now. */
  heldBy(clientId: string): number {
    return this.#perClient.get(clientId) ?? 0;
  }

  /** Whether lease `id` is live (tests). */
  has(id: number): boolean {
    return this.#held.has(id);
  }

  /** Releases every lease and grants no more (the member is stopping). */
  close(): void {
    this.#closed = true;
    for (const held of [...this.#held.values()]) this.#drop(held);
  }

  stats(): SharedLeaseStats {
    return { held: this.#held.size, granted: this.#granted, released: this.#released, expired: this.#expired, refusedFull: this.#refusedFull };
  }

  #drop(held: Held): void {
    this.#held.delete(held.id);
    const left = (this.#perClient.get(held.clientId) ?? 1) - 1;
    if (left === 0) this.#perClient.delete(held.clientId);
    else this.#perClient.set(held.clientId, left);
    held.lease.release();
  }
}

/** At most a few ids in a message: a client may send thousands. */
function listed(ids: number[]): string {
  const shown = ids.slice(0, 8).join(', ');
  return ids.length > 8 ? `${shown} and ${ids.length - 8} more` : shown;
}
