// The memory tier's arena memory from the native addon: `arenaBytes` split over the machine's
// NUMA nodes (or all on one node when the config names it), one pinned region per node
// (mmap'ed, pre-faulted, mlocked when RLIMIT_MEMLOCK allows, bound to the node with mbind; plain
// ArrayBuffers when the addon is not loaded, see src/native). Each region is a whole number of
// slabs. The regions are released with freePinned when the tier no longer needs them.
//
// Why split rather than place pages by the reader's node: the event loop that serves GetPages is
// not pinned to a node, so no node is "local" to a read; splitting keeps each node's share of the
// memory bounded and local to the worker threads pinned there (src/native/pool.ts).
import { allocPinned, freePinned, numaTopology, type PinnedRegion } from '../native/index.js';
import { MemoryTier, type ArenaMemory, type ArenaRegion } from './memory-tier.js';
import { SLAB_BYTES_DEFAULT } from './slab-arena.js';

export interface PinnedArenaOptions {
  arenaBytes: number;
  /** Put the whole arena on this node (default: split over every node). */
  numaNode?: number;
  slabBytes: number;
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
  const pinned: PinnedRegion[] = [];
  try {
    for (const node of candidates.slice(0, count)) pinned.push(allocPinned(regionBytes, bind ? { numaNode: node } : {}));
  } catch (error) {
    pinned.forEach((region) => freePinned(region));
    throw error;
  }
  // On a one-node machine all memory is on that node, bound or not: report where it is.
  const regions: ArenaRegion[] = pinned.map((region) => (nodes.length === 1 ? { ...region, numaNode: region.numaNode ?? nodes[0]! } : region));
  return { regions, release: () => pinned.forEach((region) => freePinned(region)) };
}

export interface MemoryTierConfig {
  /** Bytes of the arena; 0 disables the tier (every read goes to LevelDB). */
  arenaBytes: number;
  numaNode?: number;
}

/** A member's memory tier: pinned regions carved into slabs of SLAB_BYTES_DEFAULT. */
export function openMemoryTier(config: MemoryTierConfig, log?: (line: string) => void): MemoryTier {
  if (config.arenaBytes === 0) return MemoryTier.disabled();
  const memory = pinnedArenaMemory({ ...config, slabBytes: SLAB_BYTES_DEFAULT });
  return new MemoryTier({ memory, ...(log === undefined ? {} : { log }) });
}
