// The memory tier's arena memory from the native addon: `arenaBytes` split over the machine's
// NUMA nodes (or all on one node when the config names it), one pinned region per node
// (mmap'ed, pre-faulted, mlocked when RLIMIT_MEMLOCK allows, bound to the node with mbind; plain
// ArrayBuffers when the addon is not loaded, see src/native). Each region is a whole number of
// slabs. The regions are released with freePinned when the tier no longer needs them.
//
// Shared memory (the same-host read path, docs/ARCHITECTURE.md): with `sharedMemory` set, each
// region is a file `<dir>/<name>-<region>.arena` (tmpfs /dev/shm by default, or a hugetlbfs mount)
// that readers of this host map read-only. Each file starts with a header page
// (SHARED_ARENA_HEADER in src/native/shared-file.ts) holding a random nonce drawn at every start,
// so a reader can tell this member's live file from a stale one left by a crashed process and
// prove to the member that it reads the same file. A file at the same path is a leftover of an earlier run of this member (the name
// comes from its data directory) and is removed first; so is any arena file in the directory whose
// writer pid (in its header) no longer exists (sweepStaleArenaFiles: members killed with SIGKILL). When the files cannot be made (no addon,
// /dev/shm full or missing) the arena is allocated as private memory instead and `note` says
// why: reads then stream over gRPC, nothing fails.
//
// Why split rather than place pages by the reader's node: the event loop that serves GetPages is
// not pinned to a node, so no node is "local" to a read; splitting keeps each node's share of the
// memory bounded and local to the worker threads pinned there (src/workers/pool.ts).
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { allocPinned, allocShared, freePinned, numaTopology, SHARED_ARENA_HEADER, SHARED_DATA_OFFSET, SHARED_LOOKUP_MAGIC, SHARED_LOOKUP_PID_OFFSET, type PinnedRegion } from '../native/index.js';
import { MemoryTier, type ArenaMemory, type ArenaRegion, type SharedArena } from './memory-tier.js';
import { SLAB_BYTES_DEFAULT } from './slab-arena.js';

export interface PinnedArenaOptions {
  arenaBytes: number;
  /** Put the whole arena on this node (default: split over every node). */
  numaNode?: number;
  slabBytes: number;
  /** Put the regions in shared-memory files (see the file comment). */
  sharedMemory?: SharedMemoryConfig;
  log?: (line: string) => void;
}

export interface SharedMemoryConfig {
  /** A tmpfs (default /dev/shm) or hugetlbfs directory. */
  dir: string;
  /** File name stem, unique per member on the host (src/rpc derives it from the data directory). */
  name: string;
}


/** The header of region `region` of `count` (dataOffset is the addon's, 2 MiB). */
export function sharedHeader(nonce: Uint8Array, region: number, count: number, dataOffset: number, dataBytes: number): Uint8Array {
  const header = new Uint8Array(SHARED_ARENA_HEADER.bytes);
  const view = new DataView(header.buffer);
  const o = SHARED_ARENA_HEADER.offsets;
  header.set(Buffer.from(SHARED_ARENA_HEADER.magic, 'ascii'), o.magic);
  view.setUint32(o.version, SHARED_ARENA_HEADER.version, true);
  view.setUint32(o.region, region, true);
  header.set(nonce, o.nonce);
  view.setBigUint64(o.dataOffset, BigInt(dataOffset), true);
  view.setBigUint64(o.dataBytes, BigInt(dataBytes), true);
  view.setUint32(o.pid, process.pid, true);
  view.setUint32(o.regionCount, count, true);
  return header;
}

/** Names of shared arena files (`<name>-<region>.arena`; members name theirs `kvc-…`). */
const ARENA_FILE_PATTERN = /^kvc-.*\.arena$/;
/** Names of shared lookup index files (`<name>-lookup-<generation>.idx`, shared-lookup-index.ts). */
const LOOKUP_FILE_PATTERN = /^kvc-.*-lookup-\d+\.idx$/;
/** The member files the sweep looks at, in this order: their names, and where their header names the writer. */
const SWEPT_FILES = [
  { pattern: ARENA_FILE_PATTERN, magic: SHARED_ARENA_HEADER.magic, pidOffset: SHARED_ARENA_HEADER.offsets.pid },
  { pattern: LOOKUP_FILE_PATTERN, magic: SHARED_LOOKUP_MAGIC, pidOffset: SHARED_LOOKUP_PID_OFFSET },
] as const;

/**
 * Removes the arena files and shared lookup index files in `dir` whose writer process is gone: a
 * member killed with SIGKILL cannot remove its own, and each arena holds its whole size in RAM
 * (tmpfs) until someone does. A file is removed only when its header is of its kind and the pid in
 * it does not exist (ESRCH); a live or unknown writer (EPERM: another user's process) keeps its
 * file. Returns the paths removed, arena files first. (Hosts that share one /dev/shm across pid
 * namespaces should give each member its own `memory.sharedMemoryDir`.)
 */
export function sweepStaleArenaFiles(dir: string, log?: (line: string) => void): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const { pattern, magic, pidOffset } of SWEPT_FILES) {
    for (const name of names.filter((n) => pattern.test(n))) {
      const file = path.join(dir, name);
      const pid = headerPid(file, magic, pidOffset);
      if (pid === undefined || processExists(pid)) continue;
      rmSync(file, { force: true });
      removed.push(file);
    }
  }
  if (removed.length > 0) log?.(`memory tier: removed ${removed.length} shared-memory file(s) of members that are gone: ${removed.join(', ')}`);
  return removed;
}

/** The pid at `pidOffset` of a file whose first 8 bytes are `magic`, else undefined. */
function headerPid(file: string, magic: string, pidOffset: number): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const header = new Uint8Array(pidOffset + 4);
    if (readSync(fd, header, 0, header.byteLength, 0) < header.byteLength) return undefined;
    if (Buffer.from(header.subarray(0, 8)).toString('ascii') !== magic) return undefined;
    const pid = new DataView(header.buffer).getUint32(pidOffset, true);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Where region `region` of a member's arena lives. */
export function sharedArenaPath(config: SharedMemoryConfig, region: number): string {
  return path.join(config.dir, `${config.name}-${region}.arena`);
}

/** Allocates the arena's regions now; throws when `numaNode` is not a node of this machine. */
export function pinnedArenaMemory(o: PinnedArenaOptions): ArenaMemory {
  const nodes = numaTopology().map((n) => n.id);
  if (o.numaNode !== undefined && !nodes.includes(o.numaNode)) {
    throw new Error(`memory.numaNode ${o.numaNode} is not a NUMA node of this machine (nodes: ${nodes.join(', ')})`);
  }
  const candidates = o.numaNode === undefined ? nodes : [o.numaNode];
  // Each region needs at least one slab: a small arena uses fewer nodes.
  const count = Math.min(candidates.length, Math.floor(o.arenaBytes / o.slabBytes));
  if (count === 0) return { regions: [], release: () => undefined };
  const regionBytes = Math.floor(o.arenaBytes / count / o.slabBytes) * o.slabBytes;
  // Binding matters only where there is a choice, or where the operator asked for a node.
  const bind = nodes.length > 1 || o.numaNode !== undefined;
  const placement = candidates.slice(0, count).map((node) => (bind ? { numaNode: node } : {}));
  const shared = o.sharedMemory === undefined ? undefined : allocSharedRegions(o.sharedMemory, regionBytes, placement, o.log);
  const pinned = shared?.regions ?? allocRegions(regionBytes, placement);
  // On a one-node machine all memory is on that node, bound or not: report where it is.
  const regions: ArenaRegion[] = pinned.map((region) => (nodes.length === 1 ? { ...region, numaNode: region.numaNode ?? nodes[0]! } : region));
  if (shared === undefined) return { regions, release: () => pinned.forEach((region) => freePinned(region)) };
  const unlinkFiles = (): void => shared.paths.forEach((file) => rmSync(file, { force: true }));
  // A member that exits without closing its tier (process.exit after a fatal error) still takes
  // its files with it; only a killed process leaves them, for its next start to remove.
  process.once('exit', unlinkFiles);
  return {
    regions,
    shared: shared.arena,
    unlinkFiles: () => {
      process.off('exit', unlinkFiles);
      unlinkFiles();
    },
    release: () => pinned.forEach((region) => freePinned(region)),
  };
}

function allocRegions(regionBytes: number, placement: { numaNode?: number }[]): PinnedRegion[] {
  const pinned: PinnedRegion[] = [];
  try {
    for (const where of placement) pinned.push(allocPinned(regionBytes, where));
  } catch (error) {
    pinned.forEach((region) => freePinned(region));
    throw error;
  }
  return pinned;
}

/**
 * The regions as shared-memory files with one fresh nonce, or undefined (logged, and the caller
 * allocates private memory) when a file cannot be made. Stale files at the same paths go first.
 */
function allocSharedRegions(
  config: SharedMemoryConfig,
  regionBytes: number,
  placement: { numaNode?: number }[],
  log: ((line: string) => void) | undefined,
): { regions: PinnedRegion[]; paths: string[]; arena: SharedArena } | undefined {
  const nonce = new Uint8Array(randomBytes(SHARED_ARENA_HEADER.nonceBytes));
  const regions: PinnedRegion[] = [];
  const paths = placement.map((_, i) => sharedArenaPath(config, i));
  sweepStaleArenaFiles(config.dir, log);
  try {
    for (const [i, where] of placement.entries()) {
      rmSync(paths[i]!, { force: true });
      const header = sharedHeader(nonce, i, placement.length, SHARED_DATA_OFFSET, regionBytes);
      regions.push(allocShared(paths[i]!, regionBytes, where, header));
    }
  } catch (error) {
    regions.forEach((region) => freePinned(region));
    paths.forEach((file) => rmSync(file, { force: true }));
    log?.(`memory tier: the arena is not shared (same-host reads stream over gRPC instead): ${(error as Error).message}`);
    return undefined;
  }
  return { regions, paths, arena: { nonce, files: regions.map((region) => region.shared!) } };
}

export interface MemoryTierConfig {
  /** Bytes of the arena; 0 disables the tier (every read goes to LevelDB). */
  arenaBytes: number;
  numaNode?: number;
  /** Put the arena in shared-memory files for same-host readers (default: private memory). */
  sharedMemory?: SharedMemoryConfig;
}

/** A member's memory tier: pinned regions carved into slabs of SLAB_BYTES_DEFAULT. */
export function openMemoryTier(config: MemoryTierConfig, log?: (line: string) => void): MemoryTier {
  if (config.arenaBytes === 0) return MemoryTier.disabled();
  const memory = pinnedArenaMemory({ ...config, slabBytes: SLAB_BYTES_DEFAULT, ...(log === undefined ? {} : { log }) });
  return new MemoryTier({ memory, ...(log === undefined ? {} : { log }) });
}
