// The client's side of the same-host read path (docs/CLIENT.md "Same-host shared memory"). A
// member whose arena lives in shared-memory files lists them in Status (memory_tier.shared_memory:
// paths and the SHA-256 of a nonce). The client opens each file read-only (src/native: the addon's
// mapping, or pread without it), reads the nonce from the file's header, and uses the member only
// when the nonce's hash matches: then it is on the member's host and reads the member's live file
// (a stale file of a crashed run, or a file of the same name on another host, has another nonce).
// GetPages then sends the nonce as proof and receives, per page, a place in a file under a lease;
// the client copies the bytes, checks their crc32c (always: a lease that expired before the copy
// may have let the slot be reused), and releases the leases with ReleasePages.
//
// A member that cannot be used this way (no shared arena, a file this process cannot open, a
// nonce that does not match, Status refused) is remembered as "stream" for PROBE_AGAIN_MS and read
// over gRPC as usual.
import { createHash, randomBytes } from 'node:crypto';
import { openSharedFile, SHARED_ARENA_HEADER, type SharedFileReader } from '../native/index.js';
import type { MemberStatus } from './client.js';

/** How long a member found unusable for shared memory is read over gRPC before looking again. */
export const PROBE_AGAIN_MS = 30_000;

/** A member's shared arena as this process sees it: verified and mapped. */
export interface MemberArena {
  readonly nonce: Uint8Array;
  readonly files: readonly SharedFileReader[];
  /** Keys per GetPages this client may lease at once on the member (its leases_per_client_max). */
  readonly leasesPerClientMax: number;
}

type Probe = { kind: 'arena'; arena: MemberArena } | { kind: 'stream'; why: string; untilMs: number };

export class SharedMemoryReads {
  /** This process's client id: leases are granted to it and only it may release them. */
  readonly clientId: Uint8Array = new Uint8Array(randomBytes(16));
  readonly #probes = new Map<string, Promise<Probe>>();
  readonly #status: (endpoint: string) => Promise<MemberStatus>;

  constructor(status: (endpoint: string) => Promise<MemberStatus>) {
    this.#status = status;
  }

  /** The member's arena when this process can read it, else undefined (stream instead). */
  async arena(endpoint: string): Promise<MemberArena | undefined> {
    let probe = this.#probes.get(endpoint);
    if (probe === undefined) {
      probe = this.#probe(endpoint);
      this.#probes.set(endpoint, probe);
    }
    const found = await probe;
    if (found.kind === 'arena') return found.arena;
    if (Date.now() >= found.untilMs && this.#probes.get(endpoint) === probe) this.#probes.delete(endpoint);
    return undefined;
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
    void probe?.then((found) => found.kind === 'arena' && found.arena.files.forEach((file) => file.close()));
  }

  close(): void {
    for (const endpoint of [...this.#probes.keys()]) this.forget(endpoint);
  }

  async #probe(endpoint: string): Promise<Probe> {
    const stream = (why: string): Probe => ({ kind: 'stream', why, untilMs: Date.now() + PROBE_AGAIN_MS });
    let status: MemberStatus;
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
      return { kind: 'arena', arena: { nonce: nonce!, files, leasesPerClientMax: Math.max(1, shared.leasesPerClientMax) } };
    } catch (error) {
      files.forEach((file) => file.close());
      return stream((error as Error).message);
    }
  }
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
