// The member's side of same-host lookups: its page index, mirrored as fingerprints into a
// shared-memory file (src/native shared-lookup.ts has the layout) that clients on this host read
// without a call (docs/CLIENT.md "Same-host lookups").
//
// Why: an engine asks Lookup on its scheduling path, before it schedules a request. Over gRPC that
// is a round trip through two event loops: about 1 ms at p50 and 5-6 ms at p99 here for one caller,
// 23 ms at p99 for 100 (docs/BENCHMARKS.md, peers). Read from shared memory it is a few hash probes.
//
// The page index (page-index.ts) calls noteAdded / noteRemoved as applied batches change it; the
// store calls commit() once per batch, which writes them in one seqlock section. So the file
// follows the index a batch at a time, as a non-linearizable Lookup of this member would. It is
// rebuilt from the whole index whenever the store opens (start, snapshot install).
//
// Room: the table is kept at most LOAD_MAX full (fingerprints and tombstones). When a batch would
// pass that, the table is compacted in place (tombstones dropped) when the live fingerprints fill at
// most LIVE_MAX of it, or else copied into a new file twice as large (or more), which Status then
// names; the old file is marked retired (its readers go back to Status) and removed. Memory: 8
// bytes per slot, so 11-23 bytes of tmpfs per stored page (8 / LOAD_MAX just before a table
// grows, 8 / LIVE_MAX just after), 512 KiB at least.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { lookupFingerprints, SHARED_LOOKUP_FINGERPRINT_BYTES, SHARED_LOOKUP_HEADER_BYTES, SharedLookupWriter } from '../native/index.js';

/** Slots of a new table (512 KiB of fingerprints). */
export const SHARED_LOOKUP_SLOTS_INITIAL = 65_536;
/** Fingerprints and tombstones together fill at most this share of the table after a batch. */
const LOAD_MAX = 0.7;
/** A compaction in place must leave the live fingerprints at most this share; else the table grows. */
const LIVE_MAX = 0.35;
/** The most slots a table may have (2^32: the layout's bound; 32 GiB of file). */
const SLOTS_MAX = 2 ** 32;

export interface SharedLookupOptions {
  /** A tmpfs (default /dev/shm) directory: the one the member's shared arena uses. */
  dir: string;
  /** File name stem, unique per member on the host (the arena's: `kvc-n<id>-<hash of data dir>`). */
  name: string;
  /** Slots of the first table (default SHARED_LOOKUP_SLOTS_INITIAL; tests make it small to grow it). */
  slots?: number;
  log?: (line: string) => void;
}

export interface SharedLookupStats {
  path: string;
  nonceSha256: Uint8Array;
  capacity: number;
  pages: number;
  fileBytes: number;
  rebuilds: number;
  grows: number;
}

export class SharedLookupIndex {
  readonly #o: SharedLookupOptions;
  #writer: SharedLookupWriter;
  #nonce: Uint8Array;
  #generation: number;
  /**
   * What the batch did to each page (namespace → key id → present), the last change winning: a
   * batch may put a page and delete it again (two entries applied together), and the file must
   * end as the index does. Fingerprinted at commit, a namespace's keys in one addon call.
   */
  #pending = new Map<string, Map<string, boolean>>();
  #rebuilds = 0;
  #grows = 0;
  #closed = false;
  /** Why the index stopped ('' while it runs): see #fail. */
  #failure = '';

  private constructor(o: SharedLookupOptions, writer: SharedLookupWriter, nonce: Uint8Array, generation: number) {
    this.#o = o;
    this.#writer = writer;
    this.#nonce = nonce;
    this.#generation = generation;
  }

  /**
   * Creates the index file in `o.dir`, first removing this member's leftovers there (files of
   * earlier runs, by name). Throws when the file cannot be made: the member then keeps no shared
   * lookup index and says why in Status.
   */
  static create(o: SharedLookupOptions): SharedLookupIndex {
    removeLeftovers(o.dir, o.name);
    const nonce = new Uint8Array(randomBytes(16));
    return new SharedLookupIndex(o, SharedLookupWriter.create(fileName(o, 1), o.slots ?? SHARED_LOOKUP_SLOTS_INITIAL, nonce), nonce, 1);
  }

  /** A page entered the index (written to the file by the next commit()). */
  noteAdded(ns: string, keyId: string): void {
    this.#note(ns, keyId, true);
  }

  /** A page left the index (written to the file by the next commit()). */
  noteRemoved(ns: string, keyId: string): void {
    this.#note(ns, keyId, false);
  }

  /** Writes what the last batch changed, in one section readers see whole or retry. */
  commit(): void {
    if (this.#closed || this.#pending.size === 0) return;
    const adds = new FingerprintLists();
    const removes = new FingerprintLists();
    for (const [ns, pages] of this.#pending) for (const [keyId, present] of pages) (present ? adds : removes).add(ns, keyId);
    this.#pending.clear();
    try {
      const added = adds.fingerprints();
      this.#makeRoom(added.byteLength / SHARED_LOOKUP_FINGERPRINT_BYTES);
      // Removes go first in the file; a page is in at most one of the two lists.
      this.#writer.apply(added, removes.fingerprints());
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Replaces the whole table with `pages` (the store's index when it opens). */
  rebuild(pages: Iterable<{ ns: string; keyId: string }>): void {
    if (this.#closed) return;
    this.#pending.clear();
    const lists = new FingerprintLists();
    for (const page of pages) lists.add(page.ns, page.keyId);
    const all = lists.fingerprints();
    const count = all.byteLength / SHARED_LOOKUP_FINGERPRINT_BYTES;
    try {
      if (count > this.#writer.capacity * LIVE_MAX) this.#grow(count, all);
      else this.#writer.rebuild(all);
      this.#rebuilds++;
    } catch (error) {
      this.#fail(error);
    }
  }

  #note(ns: string, keyId: string, present: boolean): void {
    if (this.#closed) return;
    let pages = this.#pending.get(ns);
    if (pages === undefined) this.#pending.set(ns, (pages = new Map()));
    pages.set(keyId, present);
  }

  /** Why the index stopped (a new file could not be made: /dev/shm full), or '' while it runs. */
  get failure(): string {
    return this.#failure;
  }

  /** The file's figures, or undefined once it is closed or failed. */
  stats(): SharedLookupStats | undefined {
    if (this.#closed) return undefined;
    const s = this.#writer.stats();
    return {
      path: this.#writer.path,
      nonceSha256: createHash('sha256').update(this.#nonce).digest(),
      capacity: s.capacity,
      pages: s.used,
      fileBytes: SHARED_LOOKUP_HEADER_BYTES + SHARED_LOOKUP_FINGERPRINT_BYTES * s.capacity,
      rebuilds: this.#rebuilds,
      grows: this.#grows,
    };
  }

  /** Marks the file retired (readers go back to gRPC) and removes it: the writer's close does both. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#writer.close(true);
  }

  /**
   * The file could not follow the store (growing needs a new file, and tmpfs may be full): it must
   * not stop the member's applies, nor answer from a table that misses pages. So it is retired
   * (clients go back to gRPC) and removed, and the member says why in Status.
   */
  #fail(error: unknown): void {
    this.#failure = `the shared lookup index stopped: ${(error as Error).message}`;
    this.#o.log?.(this.#failure);
    this.#pending.clear();
    try {
      this.close();
    } catch {
      // Already unusable: nothing more to undo.
    }
  }

  /** Compacts in place, or grows into a new file, when `adds` more would pass LOAD_MAX. */
  #makeRoom(adds: number): void {
    const s = this.#writer.stats();
    if (s.used + s.tombstones + adds <= s.capacity * LOAD_MAX) return;
    const live = this.#writer.live();
    if (s.used + adds <= s.capacity * LIVE_MAX) {
      this.#writer.rebuild(live);
      this.#rebuilds++;
      return;
    }
    this.#grow(s.used + adds, live);
  }

  /** Moves to a new file large enough for `pages` at LIVE_MAX, holding `fps`; retires the old one. */
  #grow(pages: number, fps: Uint8Array): void {
    let capacity = this.#writer.capacity * 2;
    while (pages > capacity * LIVE_MAX && capacity < SLOTS_MAX) capacity *= 2;
    const nonce = new Uint8Array(randomBytes(16));
    const next = SharedLookupWriter.create(fileName(this.#o, this.#generation + 1), capacity, nonce);
    try {
      next.rebuild(fps);
    } catch (error) {
      next.close(true);
      throw error;
    }
    const old = this.#writer;
    this.#writer = next;
    this.#nonce = nonce;
    this.#generation++;
    this.#grows++;
    old.close(true);
    this.#o.log?.(`shared lookup index grown to ${capacity} slots (${next.path})`);
  }
}

/**
 * Pages gathered by namespace, then fingerprinted (src/native lookupFingerprints) a namespace at a
 * time: one addon call for all of a namespace's keys, where one per key cost ~1.5 µs against
 * ~0.3 µs (a namespace drop of a million pages, applied in one batch, would have spent 1.5 s).
 */
class FingerprintLists {
  readonly #byNs = new Map<string, Uint8Array[]>();

  add(ns: string, keyId: string): void {
    let keys = this.#byNs.get(ns);
    if (keys === undefined) this.#byNs.set(ns, (keys = []));
    keys.push(Buffer.from(keyId, 'latin1'));
  }

  /** Every page's 8-byte fingerprint, back to back. */
  fingerprints(): Uint8Array {
    return Buffer.concat([...this.#byNs].map(([ns, keys]) => lookupFingerprints(ns, keys)));
  }
}

function fileName(o: SharedLookupOptions, generation: number): string {
  return path.join(o.dir, `${o.name}-lookup-${generation}.idx`);
}

/** Removes `<name>-lookup-*.idx` in `dir`: this member's files from runs that did not close them. */
function removeLeftovers(dir: string, name: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const prefix = `${name}-lookup-`;
  for (const file of names) if (file.startsWith(prefix) && file.endsWith('.idx')) rmSync(path.join(dir, file), { force: true });
}
