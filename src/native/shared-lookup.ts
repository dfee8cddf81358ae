// The shared lookup index: the set of pages a cache member holds, as 64-bit fingerprints in a
// shared-memory file, so that a client on the same host answers Lookup from the member's own index
// without a round trip. The member is its only writer (SharedLookupWriter, one thread); clients in
// other processes map it read-only (SharedLookupReader) and never take a lock: a seqlock (one
// writer, many readers in other processes, and a reader must never be able to stall the writer)
// tells them to read again when the writer was modifying the table meanwhile, and removals leave
// tombstones because a lock-free reader's probe chain must not move under it. The file format and
// the memory ordering are in native/src/shared-lookup.h and .cc; the Python client reads the same
// format, so the fingerprint rule below is shared with it.
//
// The index needs the addon (plain JavaScript memory cannot be shared with other processes):
// without it, create and open throw an Error with code ERR_KVC_NO_ADDON, and clients take the
// Lookup round trip instead.
import { hash } from 'node:crypto';
import { loadedAddon, type RawAddon, type SharedLookupTableStats } from './addon.js';

/** Bytes before the first slot of an index file. */
export const SHARED_LOOKUP_HEADER_BYTES = 4096;
/** The first 8 bytes of an index file (ASCII). */
export const SHARED_LOOKUP_MAGIC = 'KVCLKUP1';
/** Bounds of an index's capacity in slots, a power of two (kLookupCapacityMin/Max in native/src/shared-lookup.h). */
export const SHARED_LOOKUP_CAPACITY_MIN = 1024;
export const SHARED_LOOKUP_CAPACITY_MAX = 2 ** 32;
/**
 * The most of the capacity that used slots plus tombstones may reach: apply refuses adds that could
 * pass it and rebuild refuses more fingerprints than this share (RangeError). The owner grows or
 * rebuilds the index before that.
 */
export const SHARED_LOOKUP_LOAD_MAX = 0.9;
/** match's answer when the writer kept modifying the index through every attempt. */
export const SHARED_LOOKUP_BUSY = -1;
/** match's answer once the writer retired the file (replaced or closed it): reopen the path. */
export const SHARED_LOOKUP_RETIRED = -2;
/** Where an index file's header holds its writer's pid (u32), for the sweep of files whose writer is gone. */
export const SHARED_LOOKUP_PID_OFFSET = 68;
/** Bytes of one fingerprint (a little-endian u64) in the arrays the index takes. */
export const SHARED_LOOKUP_FINGERPRINT_BYTES = 8;
const NONCE_BYTES = 16;
/** Empty and tombstone slots hold 0 and 1, so a fingerprint that would be one of them is moved up by this. */
const RESERVED_SHIFT = 2;

/**
 * Writes at out[offset..offset+8) the fingerprint that a SHA-256 `digest` gives: its first 8
 * bytes, read as a little-endian u64, except that 0 and 1 (the values of empty and tombstone slots)
 * become 2 and 3.
 */
export function writeFingerprint(digest: Uint8Array, out: Uint8Array, offset: number): void {
  out.set(digest.subarray(0, SHARED_LOOKUP_FINGERPRINT_BYTES), offset);
  for (let i = 1; i < SHARED_LOOKUP_FINGERPRINT_BYTES; i++) if (out[offset + i] !== 0) return;
  if (out[offset] < RESERVED_SHIFT) out[offset] += RESERVED_SHIFT;
}

/**
 * The fingerprints of the pages `keys` of namespace `ns`, 8 bytes each in the order of `keys`: of
 * each, SHA-256 over the UTF-8 bytes of `ns`, one 0x00 byte and the key's bytes, then
 * writeFingerprint. The Python client computes the same.
 */
export function lookupFingerprints(ns: string, keys: readonly Uint8Array[]): Uint8Array {
  if (typeof ns !== 'string') throw new TypeError('lookupFingerprints: ns must be a string');
  if (!Array.isArray(keys)) throw new TypeError('lookupFingerprints: keys must be an array of Uint8Arrays');
  // The addon hashes them all in one call (native/src/sha256.cc); crypto.hash per key cost a
  // same-host lookup of 16 keys about 60 % of its CPU.
  const { addon } = loadedAddon();
  if (addon === null) return lookupFingerprintsJs(ns, keys);
  const packed = packKeys('lookupFingerprints', keys);
  return addon.lookupFingerprints(namespacePrefix(ns), packed.bytes, packed.ends, keys.length);
}

/** lookupFingerprints with node:crypto, where the addon is not loaded (and for tests, to compare). */
export function lookupFingerprintsJs(ns: string, keys: readonly Uint8Array[]): Uint8Array {
  const prefix = Buffer.from(namespacePrefix(ns));
  // One buffer holds prefix ‖ key for every key in turn (crypto.hash takes a single input).
  let message = Buffer.alloc(0);
  const fingerprints = new Uint8Array(SHARED_LOOKUP_FINGERPRINT_BYTES * keys.length);
  keys.forEach((key, i) => {
    if (!(key instanceof Uint8Array)) throw new TypeError(`lookupFingerprints: key ${i} must be a Uint8Array`);
    const bytes = prefix.length + key.byteLength;
    if (message.length < bytes) {
      message = Buffer.allocUnsafe(Math.max(bytes, 2 * message.length));
      prefix.copy(message);
    }
    message.set(key, prefix.length);
    writeFingerprint(hash('sha256', message.subarray(0, bytes), 'buffer'), fingerprints, SHARED_LOOKUP_FINGERPRINT_BYTES * i);
  });
  return fingerprints;
}

/**
 * Where keys are packed for one call into the addon (one buffer, and where each key ends): a
 * Uint8Array per key would cost a Node-API call each, and a small key made in JavaScript the
 * materialization of its buffer. Reused: the addon reads it during the call only.
 */
const scratch = { bytes: new Uint8Array(4096), ends: new Uint32Array(256) };

function packKeys(what: string, keys: readonly Uint8Array[]): { bytes: Uint8Array; ends: Uint32Array } {
  if (!Array.isArray(keys)) throw new TypeError(`${what}: keys must be an array of Uint8Arrays`);
  if (scratch.ends.length < keys.length) scratch.ends = new Uint32Array(2 * keys.length);
  let end = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (!(key instanceof Uint8Array)) throw new TypeError(`${what}: key ${i} must be a Uint8Array`);
    if (end + key.byteLength > scratch.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(2 * scratch.bytes.byteLength, end + key.byteLength));
      grown.set(scratch.bytes.subarray(0, end));
      scratch.bytes = grown;
    }
    scratch.bytes.set(key, end);
    end += key.byteLength;
    scratch.ends[i] = end;
  }
  return scratch;
}

/** Namespaces whose prefix was made last (a worker looks up in a few). */
const prefixes = new Map<string, Uint8Array>();
const PREFIXES_MAX = 64;

/** The namespace's UTF-8 bytes and 0x00: what every fingerprint of its pages starts with. */
function namespacePrefix(ns: string): Uint8Array {
  let prefix = prefixes.get(ns);
  if (prefix === undefined) {
    if (prefixes.size >= PREFIXES_MAX) prefixes.clear();
    prefix = new Uint8Array(Buffer.from(`${ns}\0`, 'utf8'));
    prefixes.set(ns, prefix);
  }
  return prefix;
}

function requireAddon(what: string): RawAddon {
  const { addon, reason } = loadedAddon();
  if (addon === null) throw Object.assign(new Error(`${what}: native addon not loaded (${reason})`), { code: 'ERR_KVC_NO_ADDON' });
  return addon;
}

function checkPath(what: string, path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`${what}: path must be an absolute path`);
  return path;
}

function checkFingerprints(what: string, fingerprints: unknown): Uint8Array {
  if (!(fingerprints instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array of 8-byte fingerprints`);
  if (fingerprints.byteLength % SHARED_LOOKUP_FINGERPRINT_BYTES !== 0) {
    throw new RangeError(`${what} must hold whole 8-byte fingerprints, not ${fingerprints.byteLength} bytes`);
  }
  return fingerprints;
}

function checkCapacity(capacity: unknown): number {
  if (typeof capacity !== 'number') throw new TypeError(`SharedLookupWriter.create: capacity must be a number, got ${typeof capacity}`);
  const powerOfTwo = Number.isSafeInteger(capacity) && capacity > 0 && 2 ** Math.round(Math.log2(capacity)) === capacity;
  if (!powerOfTwo || capacity < SHARED_LOOKUP_CAPACITY_MIN || capacity > SHARED_LOOKUP_CAPACITY_MAX) {
    throw new RangeError(`SharedLookupWriter.create: capacity must be a power of two from 1024 to 2^32, got ${capacity}`);
  }
  return capacity;
}

/**
 * The member's side of an index: creates the file and is its only writer. Call it from one
 * thread only. Every method but close throws an Error once it is closed. A writer that is garbage
 * collected without close, or still open when its thread or process exits normally, retires the
 * file too (without removing it); a process that crashes leaves it live, which is why readers
 * check the nonce against the one the member announces.
 */
export class SharedLookupWriter {
  readonly path: string;
  /** Slots in the file. */
  readonly capacity: number;
  readonly #addon: RawAddon;
  /** The addon's handle; undefined once closed. */
  #handle: unknown;

  private constructor(addon: RawAddon, handle: unknown, path: string, capacity: number) {
    this.#addon = addon;
    this.#handle = handle;
    this.path = path;
    this.capacity = capacity;
  }

  /**
   * Creates `path` (a tmpfs such as /dev/shm) exclusively, mode 0600, with `capacity` empty slots
   * and the 16-byte `nonce` in its header (readers check it against the one the member announced,
   * so they never trust a stale file at the same path). Throws the system error (EEXIST when the
   * path exists: remove a stale file first; ENOSPC when the file system is full), RangeError for
   * a capacity that is not a power of two from 1024 to 2^32.
   */
  static create(path: string, capacity: number, nonce: Uint8Array): SharedLookupWriter {
    const what = 'SharedLookupWriter.create';
    const checkedPath = checkPath(what, path);
    const checkedCapacity = checkCapacity(capacity);
    if (!(nonce instanceof Uint8Array)) throw new TypeError(`${what}: nonce must be a Uint8Array`);
    if (nonce.byteLength !== NONCE_BYTES) throw new RangeError(`${what}: nonce must be ${NONCE_BYTES} bytes, got ${nonce.byteLength}`);
    const addon = requireAddon(what);
    return new SharedLookupWriter(addon, addon.createSharedLookup(checkedPath, checkedCapacity, nonce), checkedPath, checkedCapacity);
  }

  /**
   * Removes `removes`, then adds `adds` (8-byte fingerprints from lookupFingerprints), as one
   * change that readers see whole or not at all. Absent removes and present adds are no-ops.
   * RangeError, and nothing changed, when used + tombstones + the number of adds would pass
   * SHARED_LOOKUP_LOAD_MAX of the capacity, or a fingerprint is 0 or 1.
   */
  apply(adds: Uint8Array, removes: Uint8Array): void {
    const handle = this.#live('apply');
    this.#addon.applySharedLookup(handle, checkFingerprints('apply: adds', adds), checkFingerprints('apply: removes', removes));
  }

  /**
   * Replaces the whole set with `fingerprints` (duplicates count once) and clears the tombstones,
   * as one change. RangeError, and nothing changed, for more fingerprints than
   * SHARED_LOOKUP_LOAD_MAX of the capacity.
   */
  rebuild(fingerprints: Uint8Array): void {
    const handle = this.#live('rebuild');
    const count = checkFingerprints('rebuild: fingerprints', fingerprints).byteLength / SHARED_LOOKUP_FINGERPRINT_BYTES;
    if (count > this.capacity * SHARED_LOOKUP_LOAD_MAX) {
      throw new RangeError(`rebuild: ${count} fingerprints exceed ${SHARED_LOOKUP_LOAD_MAX * 100}% of the capacity ${this.capacity}`);
    }
    this.#addon.rebuildSharedLookup(handle, fingerprints);
  }

  /** Tells readers to stop using this file (their match answers SHARED_LOOKUP_RETIRED from now on). */
  retire(): void {
    this.#addon.retireSharedLookup(this.#live('retire'));
  }

  stats(): SharedLookupTableStats {
    return this.#addon.sharedLookupStats(this.#live('stats'));
  }

  /**
   * The fingerprints in the index now (8 bytes each, in slot order, stats().used of them): what a
   * compaction (rebuild) or a larger index starts from.
   */
  live(): Uint8Array {
    return this.#addon.sharedLookupLive(this.#live('live'));
  }

  /**
   * Retires the file, unmaps it and, with `unlink`, removes it. Idempotent. The file is retired
   * either way: nobody maintains it any more.
   */
  close(unlink: boolean): void {
    if (typeof unlink !== 'boolean') throw new TypeError('close: unlink must be a boolean');
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    this.#addon.closeSharedLookup(handle, unlink);
  }

  #live(what: string): unknown {
    if (this.#handle === undefined) throw new Error(`SharedLookupWriter.${what}: ${this.path} is closed`);
    return this.#handle;
  }
}

/**
 * A client's side of an index: a read-only mapping of another process's file. Lock-free; any
 * thread of any process on the host. Every method but close throws an Error once it is closed.
 */
export class SharedLookupReader {
  readonly path: string;
  /** The header's nonce (a copy): which incarnation of the member's index this is. */
  readonly nonce: Uint8Array;
  readonly capacity: number;
  readonly #addon: RawAddon;
  /** The addon's handle; undefined once closed. */
  #handle: unknown;

  private constructor(addon: RawAddon, opened: { handle: unknown; nonce: Uint8Array; capacity: number }, path: string) {
    this.#addon = addon;
    this.#handle = opened.handle;
    this.nonce = opened.nonce;
    this.capacity = opened.capacity;
    this.path = path;
  }

  /**
   * Maps `path` read-only and checks its header (magic, version, header size, capacity) and size.
   * Throws an Error with code ERR_KVC_BAD_SHARED_LOOKUP saying what is wrong when it is not a
   * version 1 index, and the system error (ENOENT, EACCES) when it cannot be opened.
   */
  static open(path: string): SharedLookupReader {
    const checkedPath = checkPath('SharedLookupReader.open', path);
    const addon = requireAddon('SharedLookupReader.open');
    return new SharedLookupReader(addon, addon.openSharedLookup(checkedPath), checkedPath);
  }

  /**
   * How many of `fingerprints` (8 bytes each, in page order), from the first, are all in the
   * index: the length of the longest present prefix. SHARED_LOOKUP_BUSY (-1) when the writer kept
   * modifying the index through every attempt (ask the member instead), SHARED_LOOKUP_RETIRED (-2)
   * when the file is retired (reopen the path). RangeError for a fingerprint of 0 or 1.
   */
  match(fingerprints: Uint8Array): number {
    const handle = this.#live('match');
    return this.#addon.matchSharedLookup(handle, checkFingerprints('match: fingerprints', fingerprints));
  }

  /**
   * match of the fingerprints of `keys` in namespace `ns` (lookupFingerprints), hashed in the addon
   * and only as far as the match goes: one call for a whole lookup.
   */
  matchKeys(ns: string, keys: readonly Uint8Array[]): number {
    const handle = this.#live('matchKeys');
    if (typeof ns !== 'string') throw new TypeError('matchKeys: ns must be a string');
    const packed = packKeys('matchKeys', keys);
    return this.#addon.matchSharedLookupKeys(handle, namespacePrefix(ns), packed.bytes, packed.ends, keys.length);
  }

  /** Whether the writer retired the file (replaced or closed it). */
  get retired(): boolean {
    return this.#addon.sharedLookupRetired(this.#live('retired'));
  }

  /** Unmaps now; idempotent. */
  close(): void {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    this.#addon.closeSharedLookupReader(handle);
  }

  #live(what: string): unknown {
    if (this.#handle === undefined) throw new Error(`SharedLookupReader.${what}: ${this.path} is closed`);
    return this.#handle;
  }
}
