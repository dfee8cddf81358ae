// The public surface of src/native: the native addon (native/) behind a TypeScript API that
// works the same without it. Pinned memory for the memory tier, the NUMA topology, thread
// affinity, the raw conversions and checksum that src/codec dispatches to, and the shared lookup
// index (shared-lookup.ts) that same-host clients answer Lookup from. Nothing here
// throws for want of the addon but what only shared memory can do (allocShared, the shared
// lookup index: ERR_KVC_NO_ADDON), and importing this file loads nothing: the first function
// called costs the one dlopen. Without the addon (KVC_NATIVE=0, not built, a stale build, or a
// load error) every other function takes its fallback and nativeStatus() says why.
// The work pool that runs on these functions is src/workers, above the codec; nothing here imports it.
import { loadedAddon, type AllocatorTrim } from './addon.js';
import { NativeApi, type NativeCodec } from './api.js';
import type { SharedFileReader } from './shared-file.js';
import type { NativeStatus, NumaNodeInfo, PinnedRegion } from './types.js';

export type { NativeStatus, NumaNodeInfo, PinnedRegion, SharedRegionFile } from './types.js';
export type { SharedFileReader } from './shared-file.js';
export { SHARED_ARENA_HEADER } from './shared-file.js';
export type { NativeCodec } from './api.js';
export type { AllocatorTrim, SharedLookupTableStats } from './addon.js';
export {
  lookupFingerprints,
  SharedLookupReader,
  SharedLookupWriter,
  SHARED_LOOKUP_BUSY,
  SHARED_LOOKUP_CAPACITY_MAX,
  SHARED_LOOKUP_CAPACITY_MIN,
  SHARED_LOOKUP_FINGERPRINT_BYTES,
  SHARED_LOOKUP_HEADER_BYTES,
  SHARED_LOOKUP_LOAD_MAX,
  SHARED_LOOKUP_MAGIC,
  SHARED_LOOKUP_PID_OFFSET,
  SHARED_LOOKUP_RETIRED,
} from './shared-lookup.js';
export { DEFAULT_SYSFS_NODE_ROOT, PINNED_BYTES_MAX, SHARED_DATA_OFFSET } from './api.js';
export { CPU_ID_MAX } from './numa.js';

let theApi: NativeApi | undefined;

/**
 * The API over the process's addon, made by the first call that needs it: a `kvc` command that
 * moves no pages (status, lookup, help) never pays for the dlopen.
 */
function api(): NativeApi {
  theApi ??= new NativeApi(loadedAddon());
  return theApi;
}

/** Tunes glibc malloc for MiB-sized buffers (LIMITS.allocator); once, at the start of a process. */
export function tuneAllocator(env: NodeJS.ProcessEnv = process.env): { applied: boolean; note: string } {
  return api().tuneAllocator(env);
}

/** Hands every free page of the C heap back to the kernel (a member does it when quiet: src/member/allocator-trim.ts). */
export function trimAllocator(): AllocatorTrim {
  return api().trimAllocator();
}

/** Whether the addon is loaded (and if not, why) and what the CPU offers its kernels. */
export function nativeStatus(): NativeStatus {
  return api().nativeStatus();
}

/**
 * Allocates `bytes` for the memory tier: with the addon an mmap'd region (2 MiB aligned and
 * rounded, pre-faulted, mlock'ed when RLIMIT_MEMLOCK allows, bound to `options.numaNode` when
 * given, registered with CUDA when a GPU is present); without it a plain ArrayBuffer. Allocate at
 * startup, not per request. Throws TypeError/RangeError for bad arguments (a numaNode that is
 * not one of numaTopology()'s ids included) and an Error with a system `code` such as ENOMEM
 * when the memory cannot be had.
 */
export function allocPinned(bytes: number, options?: { numaNode?: number }): PinnedRegion {
  return api().allocPinned(bytes, options);
}

/**
 * Releases a region now rather than when its buffer is collected: the buffer is detached
 * (byteLength 0, every view of it empty), then the mapping is unregistered, unlocked and
 * unmapped. Idempotent. Without the addon the plain buffer is detached too, so code that touches
 * a freed region fails the same way in both modes.
 */
export function freePinned(region: PinnedRegion): void {
  api().freePinned(region);
}

/**
 * Like allocPinned, but the region lives in a new file at `path` (tmpfs such as /dev/shm, or
 * hugetlbfs) that other processes of the host can map: created exclusively (EEXIST when it
 * exists: remove a stale one first) with mode 0600, fully allocated up front (ENOSPC when the
 * file system is full, rather than SIGBUS later), `header` written at its start, the payload from
 * `region.shared.dataOffset` on. Removed on failure; otherwise removing it is the caller's job
 * (freePinned only unmaps). Needs the addon: without it, an Error with code ERR_KVC_NO_ADDON.
 */
export function allocShared(path: string, bytes: number, options: { numaNode?: number } | undefined, header: Uint8Array): PinnedRegion {
  return api().allocShared(path, bytes, options, header);
}

/**
 * Opens another process's shared-memory file for reading: the addon's read-only mapping, or
 * pread without the addon (same results). Throws the system error (ENOENT, EACCES) when the file
 * cannot be opened.
 */
export function openSharedFile(path: string): SharedFileReader {
  return api().openSharedFile(path);
}

/**
 * The NUMA nodes under `sysfsRoot` (default /sys/devices/system/node), sorted by id; the rules
 * are in native/src/numa.h. A missing root, or one listing no nodes, gives one node 0 with every
 * CPU (os.cpus()) and all memory (os.totalmem()).
 */
export function numaTopology(sysfsRoot?: string): NumaNodeInfo[] {
  return api().numaTopology(sysfsRoot);
}

/**
 * Pins the CALLING thread (the main thread or one worker) to `cpus`. True when applied; false
 * when the OS refused (CPUs outside this process's cpuset, say) or without the addon.
 */
export function setThreadAffinity(cpus: number[]): boolean {
  return api().setThreadAffinity(cpus);
}

/** The CPUs the calling thread may run on; null without the addon. */
export function threadAffinity(): number[] | null {
  return api().threadAffinity();
}

/**
 * Drops the clean cached pages of `length` bytes of `fd` from `offset` (posix_fadvise DONTNEED):
 * '' when done, else why not (the errno's name, or that the addon is not loaded). Pages still
 * dirty stay; so callers drop what an fdatasync has just written.
 */
export function dropCachedPages(fd: number, offset: number, length: number): string {
  return api().dropCachedPages(fd, offset, length);
}

/**
 * Writes `chunks` at `position` of `fd`, then fdatasync when `sync`, then drops `drop` from the page
 * cache (when its length is > 0), back to back on one thread of libuv's pool. Resolves with '' or
 * why the drop failed (the append stands); rejects as Node's fs does (`code`, `syscall`) when the
 * write or the sync failed. Null without the addon: the caller writes and syncs in two steps.
 */
export function appendDurable(fd: number, chunks: readonly Uint8Array[], position: number, sync: boolean, drop: { offset: number; length: number }): Promise<string> | null {
  return api().appendDurable(fd, chunks, position, sync, drop);
}

/** How many pages of the range are in the page cache (mincore); null without the addon. For tests. */
export function cachedPageCount(fd: number, offset: number, length: number): number | null {
  return api().cachedPageCount(fd, offset, length);
}

/** Logs one line, once per process (per thread), when the addon is not loaded; nothing otherwise. */
export function warnOnceIfFallback(log: (line: string) => void): void {
  api().warnOnceIfFallback(log);
}

/** The addon's conversions and checksum, for src/codec; null when it is not loaded. */
export function nativeCodec(): NativeCodec | null {
  return api().nativeCodec();
}

/**
 * Switches the addon between its SIMD and scalar kernels, process-wide, so tests and benchmarks
 * can run both on one machine. Returns the previous setting; false, and no effect, without it.
 */
export function setNativeSimdEnabled(enabled: boolean): boolean {
  return api().setNativeSimdEnabled(enabled);
}

/**
 * Switches the addon's 512-bit kernels (the AVX-512 folding crc32c) alone, process-wide, so tests
 * can run the SSE4.2 ones on a CPU that has both. Returns the previous setting; false without it.
 */
export function setNativeWideSimdEnabled(enabled: boolean): boolean {
  return api().setNativeWideSimdEnabled(enabled);
}
