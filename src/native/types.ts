// The shapes src/native hands out; index.ts re-exports them. The addon builds the same objects
// (native/src/addon.cc), so a field added here must be added there too.

/** One NUMA node: its CPUs and memory (MemTotal of node<N>/meminfo). */
export interface NumaNodeInfo {
  id: number;
  cpus: number[];
  memoryBytes: number;
}

/**
 * A region of memory for the memory tier. With the addon: an mmap'd region, huge-page aligned,
 * pre-faulted, mlock'ed when allowed, bound to a NUMA node when asked, registered with CUDA when
 * a GPU is present. Without: a plain ArrayBuffer. Released by freePinned or, failing that, when
 * `buffer` is garbage collected.
 */
export interface PinnedRegion {
  /** Exactly `bytes` long (the start of a mapping rounded up to 2 MiB). Detached after freePinned. */
  buffer: ArrayBuffer;
  bytes: number;
  /** The node the region is bound to; null when not bound (none asked, mbind failed, or the fallback). */
  numaNode: number | null;
  /** False when RLIMIT_MEMLOCK is too low (see `note`) and in the fallback. */
  mlocked: boolean;
  hugePageAligned: boolean;
  /** cudaHostRegister succeeded (CUDA's runtime library and a GPU are present). */
  cudaRegistered: boolean;
  /** '' or, in one line, why the region is not mlocked, not bound or not native at all. */
  note: string;
  /** Set when the region lives in a shared-memory file (allocShared). */
  shared?: SharedRegionFile;
}

/** Where a shared region lives: its payload is `bytes` bytes of `path` from `dataOffset` on. */
export interface SharedRegionFile {
  path: string;
  /** The file's size (header page plus the payload rounded up to 2 MiB). */
  fileBytes: number;
  /** Where the payload starts in the file (2 MiB: the header's huge page). */
  dataOffset: number;
}

export interface NativeStatus {
  loaded: boolean;
  /** '' when loaded, else why not. */
  reason: string;
  /** What the CPU offers the addon's kernels; all false without the addon. */
  features: { sse42: boolean; f16c: boolean; avx2: boolean };
}
