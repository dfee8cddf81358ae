// Loads the native addon (native/, built by scripts/build-native.mjs) once per thread, when first
// needed (loadedAddon). Loading never throws: when KVC_NATIVE=0 is set, when the build is missing
// or stale, or when the binary cannot be loaded, `addon` is null and `reason` says why, and every
// caller takes its TypeScript path. `loadAddon` takes the environment and directory as
// arguments so the tests can run each of those cases in one process.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { NumaNodeInfo, PinnedRegion } from './types.js';

/** The addon's exports version this file was written for (kApiVersion in native/src/addon.cc). */
export const NATIVE_API_VERSION = 10;

/** CPU features the addon's kernels use, as detected at run time. */
export interface CpuFeatures {
  sse42: boolean;
  f16c: boolean;
  avx2: boolean;
  /** AVX-512F with VPCLMULQDQ: the folding crc32c kernels (the native crc32c's widest). */
  avx512Clmul: boolean;
}

/**
 * The raw exports of native/src/addon.cc. Arguments are checked there too, but the public
 * wrappers in index.ts and src/codec check them first, so their errors read the same with or
 * without the addon.
 */
export interface RawAddon {
  apiVersion: number;
  hugePageBytes: number;
  cpuFeatures(): CpuFeatures;
  /** Process-wide switch between the SIMD and the scalar kernels; returns the previous setting. */
  setSimdEnabled(enabled: boolean): boolean;
  /** Process-wide switch of the 512-bit kernels alone (SSE4.2 runs instead); returns the previous setting. */
  setWideSimdEnabled(enabled: boolean): boolean;
  /** `seed` must be an unsigned 32-bit integer. */
  crc32c(data: Uint8Array, seed: number): number;
  /**
   * Copies `src` into `dst` from `dstOffset` (RangeError when it does not fit or the two overlap)
   * and returns the CRC-32C, from `seed`, of the bytes written: one pass over them.
   */
  copyCrc32c(src: Uint8Array, dst: Uint8Array, dstOffset: number, seed: number): number;
  /** Writes `src.length` elements into `dst` (which must hold them); the ranges must not overlap. */
  fp32ToFp16(src: Float32Array, dst: Uint16Array): void;
  bf16ToFp16(src: Uint16Array, dst: Uint16Array): void;
  fp16ToFp32(src: Uint16Array, dst: Float32Array): void;
  /** Empty when the root is missing or has no node directories (the caller adds the fallback node). */
  numaTopology(root: string): NumaNodeInfo[];
  setThreadAffinity(cpus: number[]): boolean;
  /** The calling thread's allowed CPUs; null where the platform cannot tell. */
  threadAffinity(): number[] | null;
  /** posix_fadvise(POSIX_FADV_DONTNEED) over the range: '' or the errno's name. */
  dropCachedPages(fd: number, offset: number, length: number): string;
  /**
   * On a thread of libuv's pool: pwritev of every byte of `chunks` at `position`, then fdatasync
   * when `sync`, then posix_fadvise DONTNEED over the drop range when its length is > 0. Resolves
   * with '' or the errno name of a failed drop; rejects with an Error carrying `code`, `errno` and
   * `syscall` when the write or the fdatasync failed.
   */
  appendDurable(fd: number, chunks: readonly Uint8Array[], position: number, sync: boolean, dropOffset: number, dropLength: number): Promise<string>;
  /** Pages of the range in the page cache (mmap + mincore); throws a RangeError naming errno when it cannot count. */
  cachedPageCount(fd: number, offset: number, length: number): number;
  /** `numaNode` -1 binds to no node. */
  allocPinned(bytes: number, numaNode: number): PinnedRegion;
  /** True when this call released the region, false when it was already released. */
  freePinned(buffer: ArrayBuffer): boolean;
  /** Where a shared region's payload starts in its file (kSharedDataOffset, 2 MiB). */
  sharedDataOffset: number;
  /**
   * A pinned region in a new shared-memory file at `path` (created exclusively, mode 0600),
   * `header` written at its start; freed with freePinned. Throws an Error with an errno `code`.
   */
  allocShared(path: string, bytes: number, numaNode: number, header: Uint8Array): PinnedRegion & { fileBytes: number; dataOffset: number };
  /** A read-only mapping of a whole file; the handle is opaque. Throws an Error with an errno `code`. */
  openShared(path: string): { handle: unknown; bytes: number };
  /** Copies dst.length bytes from `offset` of the mapping; RangeError outside it or once closed. */
  copyShared(handle: unknown, offset: number, dst: Uint8Array): void;
  /** copyShared that returns the CRC-32C, from `seed`, of the bytes written to dst, in the same pass. */
  copySharedCrc32c(handle: unknown, offset: number, dst: Uint8Array, seed: number): number;
  copySharedCrc32cAsync(handle: unknown, offset: number, dst: Uint8Array, seed: number): Promise<number>;
  /** Unmaps now; true when this call did (the handle's finalizer does it otherwise). */
  closeShared(handle: unknown): boolean;
  /**
   * A new shared lookup index file (native/src/shared-lookup.h; created exclusively, mode 0600)
   * and its writer's opaque handle. Throws an Error with an errno `code` when a system call fails.
   */
  createSharedLookup(path: string, capacity: number, nonce: Uint8Array): unknown;
  /** Removes, then adds, in one write section; RangeError past 90% load (nothing changed then). */
  applySharedLookup(handle: unknown, adds: Uint8Array, removes: Uint8Array): void;
  /** Replaces the whole set in one write section; RangeError past 90% load. */
  rebuildSharedLookup(handle: unknown, fingerprints: Uint8Array): void;
  retireSharedLookup(handle: unknown): void;
  sharedLookupStats(handle: unknown): SharedLookupTableStats;
  /** The fingerprints in the table, 8 bytes each, in slot order. */
  sharedLookupLive(handle: unknown): Uint8Array;
  /** Retires, unmaps, and removes the file when `unlink`; true when this call closed it. */
  closeSharedLookup(handle: unknown, unlink: boolean): boolean;
  /**
   * A reader's read-only mapping of an index file. An Error with code ERR_KVC_BAD_SHARED_LOOKUP
   * when the file is not a valid one, with an errno `code` when a system call fails.
   */
  openSharedLookup(path: string): { handle: unknown; nonce: Uint8Array; capacity: number };
  /** The longest present prefix's length; -1 when the writer kept it busy, -2 when it is retired. */
  matchSharedLookup(handle: unknown, fingerprints: Uint8Array): number;
  /**
   * matchSharedLookup of the fingerprints of `count` keys packed in `packed` (key i ends at
   * ends[i]), hashed in the addon; prefix: the namespace's UTF-8 bytes and 0x00.
   */
  matchSharedLookupKeys(handle: unknown, prefix: Uint8Array, packed: Uint8Array, ends: Uint32Array, count: number): number;
  /** The fingerprints of `count` keys packed as above, 8 bytes each. */
  lookupFingerprints(prefix: Uint8Array, packed: Uint8Array, ends: Uint32Array, count: number): Uint8Array;
  sharedLookupRetired(handle: unknown): boolean;
  /** Unmaps now; true when this call did (the handle's finalizer does it otherwise). */
  closeSharedLookupReader(handle: unknown): boolean;
  /** glibc mallopt of the mmap threshold, trim threshold and top pad (bytes, 1 .. 2^31-1). */
  tuneAllocator(mmapThresholdBytes: number, trimThresholdBytes: number, topPadBytes: number): AllocatorTuning;
  /** glibc malloc_trim(0): every free heap page back to the kernel. */
  trimAllocator(): AllocatorTrim;
}

/**
 * The slot table of a shared lookup index, as its writer sees it (the store's SharedLookupStats
 * adds the file and its rebuilds).
 */
export interface SharedLookupTableStats {
  /** Slots (a power of two). */
  capacity: number;
  /** Slots holding a fingerprint. */
  used: number;
  tombstones: number;
  /** The seqlock counter: even between write sections, +2 for each. */
  seq: number;
}

export interface AllocatorTrim {
  /** False without the addon or off glibc (nothing was done). */
  supported: boolean;
  /** malloc_trim handed memory back. */
  released: boolean;
  /** Free bytes in the allocator's arenas afterwards (mallinfo2 fordblks; trimmed pages included). */
  freeBytes: number;
}

export interface AllocatorTuning {
  applied: boolean;
  /** One line: what was set, or why nothing was. */
  note: string;
}

export interface LoadedAddon {
  addon: RawAddon | null;
  /** '' when loaded, else why not (one line). */
  reason: string;
}

/** native/ from src/native/ (the same relative path in a checkout and when run from source). */
export const NATIVE_DIR = fileURLToPath(new URL('../../native/', import.meta.url));

export function loadAddon(env: NodeJS.ProcessEnv = process.env, nativeDir: string = NATIVE_DIR): LoadedAddon {
  if (env.KVC_NATIVE === '0') return { addon: null, reason: 'disabled by KVC_NATIVE=0' };
  try {
    const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as (dir: string) => unknown;
    const addon = nodeGypBuild(nativeDir) as RawAddon;
    if (addon.apiVersion !== NATIVE_API_VERSION) {
      return {
        addon: null,
        reason: `the built addon has API version ${String(addon.apiVersion)}, ${NATIVE_API_VERSION} is needed (rebuild it: npm run build:native)`,
      };
    }
    return { addon, reason: '' };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { addon: null, reason: `the addon could not be loaded (${message}); build it with npm run build:native` };
  }
}

let loadedOnce: LoadedAddon | undefined;

/** The process's addon, loaded (one dlopen and its checks) by the first call that needs it. */
export function loadedAddon(): LoadedAddon {
  loadedOnce ??= loadAddon();
  return loadedOnce;
}
