// The client's side of the same-host read path (docs/CLIENT.md "Same-host shared memory"). A
// member whose arena lives in shared-memory files lists them in Status (memory_tier.shared_memory:
// paths and the SHA-256 of a nonce). The client opens each file read-only (src/native: the addon's
// mapping, or pread without it), reads the nonce from the file's header, and uses the member only
// when the nonce's hash matches: then it is on the member's host and reads the member's live file
// (a stale file of a crashed run, or a file of the same name on another host, has another nonce).
// GetPages then sends the nonce as proof and receives, per page, a place in a file under a lease;
// the client copies the bytes, checks their crc32c (always: a lease that expired before the copy
// may have let the slot be reused), and releases the leases.
//
// Releases cost no round trip of their own while reads keep coming: the ids of copied pages wait
// here (PendingReleases) and ride on the next GetPages to the same member (`release_lease_ids`,
// when its Status says it takes them); ids still waiting after RELEASE_DELAY_MS go out together in
// one ReleasePages, and so do RELEASE_FLUSH_AT of them at once for a member that does not take
// them on GetPages. Waiting keeps a slot from being reused a little longer, never shorter, and is
// far below the lease time. Carried on the next GetPages, a read of more keys than one client may
// lease (sent in several streams) has the first stream's leases ended before the second is
// leased, where a ReleasePages sent beside it could arrive after it and make it
// KVC_TOO_MANY_LEASES.
//
// A member that cannot be used this way (no shared arena, a file this process cannot open, a
// nonce that does not match, Status refused) is remembered as "stream" for PROBE_AGAIN_MS and read
// over gRPC as usual.
import { createHash, randomBytes } from 'node:crypto';
import { crc32c } from '../bytes/index.js';
import { LIMITS } from '../limits.js';
import { openSharedFile, SHARED_ARENA_HEADER, type SharedFileReader } from '../native/index.js';
// Status's answer as the generated type (client.ts calls it MemberStatus), so that this module,
// which client.ts imports, does not import client.ts back.
import type { SharedPage__Output as SharedPageMessage, StatusResponse__Output as StatusResponse } from '../proto/index.js';

/** How long a member found unusable for shared memory is read over gRPC before looking again. */
export const PROBE_AGAIN_MS = 30_000;
/** Longest a copied page's lease waits for a GetPages to carry its release before ReleasePages is sent. */
export const RELEASE_DELAY_MS = 20;
/** Most lease ids one GetPages carries or one ReleasePages sends (the member's bound on either). */
export const RELEASE_BATCH_MAX = LIMITS.page.keysPerRequestMax;
/** Waiting ids for a member that does not take them on GetPages: this many go out at once. */
export const RELEASE_FLUSH_AT = 256;
/**
 * Pages of at least this many bytes are copied from the mapping on libuv's pool (the addon's
 * readCrc32cAsync), beside the event loop and each other; smaller ones on the event loop, where
 * the copy costs less than handing it to a thread and back (~20-30 µs).
 */
export const COPY_ON_POOL_BYTES_MIN = 256 * 1024;
/** Copies on the pool one GetPages stream may run ahead of the page it yields next. */
export const COPIES_AHEAD_MAX = 4;

/** A member's shared arena as this process sees it: verified and mapped. */
export interface MemberArena {
  readonly nonce: Uint8Array;
  readonly files: readonly SharedFileReader[];
  /** Keys per GetPages this client may lease at once on the member (its leases_per_client_max). */
  readonly leasesPerClientMax: number;
  /** The member ends the leases a GetPages names in release_lease_ids (else only ReleasePages does). */
  readonly releasesWithGet: boolean;
}

/** Sends one ReleasePages of `ids` (at most RELEASE_BATCH_MAX) to `endpoint`; never rejects. */
export type SendRelease = (endpoint: string, arena: MemberArena, ids: number[]) => Promise<void>;

type Probe = { kind: 'arena'; arena: MemberArena } | { kind: 'stream'; why: string; untilMs: number };

export class SharedMemoryReads {
  /** This process's client id: leases are granted to it and only it may release them. */
  readonly clientId: Uint8Array = new Uint8Array(randomBytes(16));
  readonly #probes = new Map<string, Promise<Probe>>();
  /** Endpoints whose arena this process has mapped (same-host members), in the order found. */
  readonly #sameHost = new Set<string>();
  readonly #status: (endpoint: string) => Promise<StatusResponse>;
  readonly #releases: PendingReleases;

  constructor(status: (endpoint: string) => Promise<StatusResponse>, sendRelease: SendRelease) {
    this.#status = status;
    this.#releases = new PendingReleases(sendRelease);
  }

  /** The leases `ids` on `endpoint`'s `arena` were copied and checked: release them soon. */
  copied(endpoint: string, arena: MemberArena, ids: readonly number[]): void {
    this.#releases.add(endpoint, arena, ids);
  }

  /** Lease ids for the next GetPages to `endpoint` to carry (taken: the caller sends them). */
  releasesToCarry(endpoint: string, arena: MemberArena): number[] {
    return arena.releasesWithGet ? this.#releases.take(endpoint, arena) : [];
  }

  /** The member's arena when this process can read it, else undefined (stream instead). */
  async arena(endpoint: string): Promise<MemberArena | undefined> {
    let probe = this.#probes.get(endpoint);
    if (probe === undefined) {
      probe = this.#probe(endpoint);
      this.#probes.set(endpoint, probe);
    }
    const found = await probe;
    if (found.kind === 'arena') {
      if (this.#probes.get(endpoint) === probe) this.#sameHost.add(endpoint);
      return found.arena;
    }
    if (Date.now() >= found.untilMs && this.#probes.get(endpoint) === probe) this.#probes.delete(endpoint);
    return undefined;
  }

  /**
   * The first of `endpoints` whose arena this process reads (a member on this host), known from
   * an earlier read; undefined when none is known yet. Never probes: a member that does not
   * answer would hold up the read that asked.
   */
  sameHostMember(endpoints: readonly string[]): string | undefined {
    return endpoints.find((endpoint) => this.#sameHost.has(endpoint));
  }

  /** Why the member is streamed, or '' when its arena is in use (tests, bench). */
  async whyStreamed(endpoint: string): Promise<string> {
    const found = await (this.#probes.get(endpoint) ?? Promise.resolve(undefined));
    return found?.kind === 'stream' ? found.why : '';
  }

  /** The member said the nonce is wrong (it restarted): unmap and look again on the next read. */
  forget(endpoint: string): void {
    const probe = this.#probes.get(endpoint);
    this.#probes.delete(endpoint);
    this.#sameHost.delete(endpoint);
    // The member restarted: its leases ended with it.
    this.#releases.drop(endpoint);
    void probe?.then((found) => found.kind === 'arena' && found.arena.files.forEach((file) => file.close()));
  }

  /** Unmaps every arena. Leases still waiting for release are left to expire (the channels close too). */
  close(): void {
    for (const endpoint of [...this.#probes.keys()]) this.forget(endpoint);
    this.#releases.close();
  }

  async #probe(endpoint: string): Promise<Probe> {
    const stream = (why: string): Probe => ({ kind: 'stream', why, untilMs: Date.now() + PROBE_AGAIN_MS });
    let status: StatusResponse;
    try {
      status = await this.#status(endpoint);
    } catch (error) {
      return stream(`Status failed: ${(error as Error).message}`);
    }
    const shared = status.memoryTier?.sharedMemory;
    if (shared === undefined || shared === null || shared.files.length === 0) return stream('the member does not share its arena');
    const files: SharedFileReader[] = [];
    try {
      let nonce: Uint8Array | undefined;
      for (const [region, file] of shared.files.entries()) {
        const reader = openSharedFile(file.path);
        files.push(reader);
        const found = readHeaderNonce(reader, region);
        if (nonce !== undefined && !Buffer.from(found).equals(nonce)) throw new Error(`${file.path} has another nonce than region 0`);
        nonce = found;
      }
      const hash = createHash('sha256').update(nonce!).digest();
      if (!hash.equals(shared.nonceSha256)) throw new Error('the files\' nonce is not the member\'s (another host, or a stale file)');
      const arena = { nonce: nonce!, files, leasesPerClientMax: Math.max(1, shared.leasesPerClientMax), releasesWithGet: shared.releasesWithGet };
      return { kind: 'arena', arena };
    } catch (error) {
      files.forEach((file) => file.close());
      return stream((error as Error).message);
    }
  }
}

/**
 * Lease ids whose pages were copied, per member, until a GetPages carries them or one
 * ReleasePages sends them: after RELEASE_DELAY_MS, or at once when RELEASE_FLUSH_AT wait for a
 * member that does not take them on GetPages.
 */
export class PendingReleases {
  readonly #send: SendRelease;
  readonly #delayMs: number;
  readonly #waiting = new Map<string, { arena: MemberArena; ids: number[] }>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(send: SendRelease, delayMs: number = RELEASE_DELAY_MS) {
    this.#send = send;
    this.#delayMs = delayMs;
  }

  add(endpoint: string, arena: MemberArena, ids: readonly number[]): void {
    // A stream that ends after close(): its channel is gone too; the leases expire.
    if (this.#closed) return;
    let waiting = this.#waiting.get(endpoint);
    // Ids of an arena the client has since replaced (the member restarted) ended with it.
    if (waiting?.arena !== arena) {
      waiting = { arena, ids: [] };
      this.#waiting.set(endpoint, waiting);
    }
    waiting.ids.push(...ids);
    if (waiting.ids.length >= RELEASE_FLUSH_AT && !arena.releasesWithGet) this.#flush(endpoint);
    else this.#timer ??= setTimeout(() => this.flushAll(), this.#delayMs).unref();
  }

  /** Up to RELEASE_BATCH_MAX waiting ids of `arena` on `endpoint`, removed from the wait. */
  take(endpoint: string, arena: MemberArena): number[] {
    const waiting = this.#waiting.get(endpoint);
    if (waiting?.arena !== arena) return [];
    const ids = waiting.ids.splice(0, RELEASE_BATCH_MAX);
    if (waiting.ids.length === 0) this.#waiting.delete(endpoint);
    return ids;
  }

  /** Lease ids waiting (tests). */
  waiting(endpoint: string): number {
    return this.#waiting.get(endpoint)?.ids.length ?? 0;
  }

  /** Sends every waiting id now, in ReleasePages of at most RELEASE_BATCH_MAX ids. */
  flushAll(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const endpoint of [...this.#waiting.keys()]) this.#flush(endpoint);
  }

  drop(endpoint: string): void {
    this.#waiting.delete(endpoint);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting.clear();
  }

  #flush(endpoint: string): void {
    const waiting = this.#waiting.get(endpoint);
    this.#waiting.delete(endpoint);
    if (waiting === undefined) return;
    for (let i = 0; i < waiting.ids.length; i += RELEASE_BATCH_MAX) void this.#send(endpoint, waiting.arena, waiting.ids.slice(i, i + RELEASE_BATCH_MAX));
  }
}

/**
 * Copies the page `shared` names from `arena`'s file of its region into `target` and returns the
 * crc32c of the bytes written there: with the addon's mapping in the same pass as the copy (on
 * libuv's pool from COPY_ON_POOL_BYTES_MIN: then a promise of it), with the pread fallback by
 * checksumming `target` after the read. The caller compares it with the page's metadata (a copy
 * the member did not read first, or made after its lease expired, may not match).
 */
export function copySharedPage(arena: MemberArena, shared: SharedPageMessage, target: Uint8Array): number | Promise<number> {
  const file = arena.files[shared.region];
  if (file === undefined) throw new RangeError(`region ${shared.region} is not one of the ${arena.files.length} files`);
  if (file.readCrc32cAsync !== undefined && target.byteLength >= COPY_ON_POOL_BYTES_MIN) return file.readCrc32cAsync(shared.offset, target, 0);
  if (file.readCrc32c !== undefined) return file.readCrc32c(shared.offset, target, 0);
  file.read(shared.offset, target);
  return crc32c(target);
}

/** The nonce of an arena file's header, after checking its magic, version and region index. */
export function readHeaderNonce(reader: SharedFileReader, region: number): Uint8Array {
  const header = new Uint8Array(SHARED_ARENA_HEADER.bytes);
  reader.read(0, header);
  const view = new DataView(header.buffer);
  const o = SHARED_ARENA_HEADER.offsets;
  const magic = Buffer.from(header.subarray(o.magic, o.magic + 8)).toString('latin1');
  if (magic !== SHARED_ARENA_HEADER.magic) throw new Error(`${reader.path} is not an arena file`);
  const version = view.getUint32(o.version, true);
  if (version !== SHARED_ARENA_HEADER.version) throw new Error(`${reader.path} has header version ${version}, ${SHARED_ARENA_HEADER.version} is known`);
  if (view.getUint32(o.region, true) !== region) throw new Error(`${reader.path} is not region ${region}`);
  return header.slice(o.nonce, o.nonce + SHARED_ARENA_HEADER.nonceBytes);
}
