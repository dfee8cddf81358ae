// The TypeScript API over one loaded (or absent) addon. index.ts builds the process's instance
// from the addon loaded when first needed; the tests also build one with no addon, to run the fallback
// paths in the same process. Arguments are checked here, before the addon sees them, so a bad
// call throws the same TypeError or RangeError with and without it.
import assert from 'node:assert/strict';
import os from 'node:os';
import { LIMITS } from '../limits.js';
import type { AllocatorTrim, LoadedAddon, RawAddon } from './addon.js';
import { MappedReader, PreadReader, type SharedFileReader } from './shared-file.js';
import { CPU_ID_MAX, readNumaTopology } from './numa.js';
import type { NativeStatus, NumaNodeInfo, PinnedRegion } from './types.js';

/** Where Linux describes NUMA nodes. */
export const DEFAULT_SYSFS_NODE_ROOT = '/sys/devices/system/node';
/** The largest region allocPinned accepts (kPinnedBytesMax in native/src/addon.cc). */
export const PINNED_BYTES_MAX = 2 ** 40;
/** Node ids the addon can bind to (kNumaNodeIdMax in native/src/pinned.h). */
const NUMA_NODE_ID_MAX = 1023;
const NO_NUMA_NODE = -1;
/** kSharedDataOffset in native/src/pinned.h: a shared file's payload starts one huge page in. */
export const SHARED_DATA_OFFSET = 2 * 1024 * 1024;
const NO_FEATURES = Object.freeze({ sse42: false, f16c: false, avx2: false });

/** The addon's conversions and checksum for src/codec. */
export type NativeCodec = Pick<RawAddon, 'crc32c' | 'copyCrc32c' | 'fp32ToFp16' | 'bf16ToFp16' | 'fp16ToFp32'>;

function checkFileRange(what: string, fd: number, offset: number, length: number): void {
  for (const [name, value] of [['fd', fd], ['offset', offset], ['length', length]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what}: ${name} must be a non-negative integer, got ${String(value)}`);
  }
}

function checkCpus(cpus: unknown): number[] {
  if (!Array.isArray(cpus)) throw new TypeError('setThreadAffinity: cpus must be an array of CPU ids');
  if (cpus.length === 0) throw new RangeError('setThreadAffinity: cpus must not be empty');
  for (const cpu of cpus) {
    if (typeof cpu !== 'number') throw new TypeError(`setThreadAffinity: CPU ids are numbers, got ${typeof cpu}`);
    if (!Number.isInteger(cpu) || cpu < 0 || cpu > CPU_ID_MAX) {
      throw new RangeError(`setThreadAffinity: ${cpu} is not a CPU id (0..${CPU_ID_MAX})`);
    }
  }
  return cpus as number[];
}

function checkBytes(bytes: unknown): number {
  if (typeof bytes !== 'number') throw new TypeError(`allocPinned: bytes must be a number, got ${typeof bytes}`);
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > PINNED_BYTES_MAX) {
    throw new RangeError(`allocPinned: bytes must be an integer from 1 to ${PINNED_BYTES_MAX} (1 TiB), got ${bytes}`);
  }
  return bytes;
}

function fallbackRegion(bytes: number, why: string): PinnedRegion {
  return {
    buffer: new ArrayBuffer(bytes),
    bytes,
    numaNode: null,
    mlocked: false,
    hugePageAligned: false,
    cudaRegistered: false,
    note: `a plain ArrayBuffer, not pinned: ${why}`,
  };
}

export class NativeApi {
  readonly #addon: RawAddon | null;
  readonly #reason: string;
  #warned = false;
  #defaultTopology: NumaNodeInfo[] | undefined;
  /** Buffers of regions the addon mapped (freePinned hands these back to it). */
  readonly #nativeBuffers = new WeakSet<ArrayBuffer>();
  /** Buffers already released by freePinned (it is idempotent). */
  readonly #releasedBuffers = new WeakSet<ArrayBuffer>();

  constructor(loaded: LoadedAddon) {
    this.#addon = loaded.addon;
    this.#reason = loaded.reason;
  }

  nativeStatus(): NativeStatus {
    const features = this.#addon === null ? NO_FEATURES : this.#addon.cpuFeatures();
    // The three that Status reports (NativeStatus in proto/); avx512Clmul only picks a crc32c kernel.
    return { loaded: this.#addon !== null, reason: this.#reason, features: { sse42: features.sse42, f16c: features.f16c, avx2: features.avx2 } };
  }

  warnOnceIfFallback(log: (line: string) => void): void {
    if (this.#addon !== null || this.#warned) return;
    this.#warned = true;
    log(
      `native addon not loaded (${this.#reason}): using the TypeScript paths ` +
        '(slower conversions and checksums, no pinned memory)',
    );
  }

  nativeCodec(): NativeCodec | null {
    return this.#addon;
  }

  setNativeSimdEnabled(enabled: boolean): boolean {
    if (typeof enabled !== 'boolean') throw new TypeError('setNativeSimdEnabled: enabled must be a boolean');
    return this.#addon === null ? false : this.#addon.setSimdEnabled(enabled);
  }

  setNativeWideSimdEnabled(enabled: boolean): boolean {
    if (typeof enabled !== 'boolean') throw new TypeError('setNativeWideSimdEnabled: enabled must be a boolean');
    return this.#addon === null ? false : this.#addon.setWideSimdEnabled(enabled);
  }

  numaTopology(sysfsRoot: string = DEFAULT_SYSFS_NODE_ROOT): NumaNodeInfo[] {
    if (typeof sysfsRoot !== 'string') throw new TypeError('numaTopology: sysfsRoot must be a string');
    const isDefault = sysfsRoot === DEFAULT_SYSFS_NODE_ROOT;
    // The machine's own topology does not change while the process runs: read it once.
    let nodes = isDefault ? this.#defaultTopology : undefined;
    if (nodes === undefined) {
      nodes = this.#addon === null ? readNumaTopology(sysfsRoot) : this.#addon.numaTopology(sysfsRoot);
      if (nodes.length === 0) nodes = [{ id: 0, cpus: os.cpus().map((_, i) => i), memoryBytes: os.totalmem() }];
      if (isDefault) this.#defaultTopology = nodes;
    }
    return nodes.map((node) => ({ ...node, cpus: [...node.cpus] }));
  }

  setThreadAffinity(cpus: number[]): boolean {
    const checked = checkCpus(cpus);
    return this.#addon === null ? false : this.#addon.setThreadAffinity(checked);
  }

  threadAffinity(): number[] | null {
    return this.#addon === null ? null : this.#addon.threadAffinity();
  }

  dropCachedPages(fd: number, offset: number, length: number): string {
    checkFileRange('dropCachedPages', fd, offset, length);
    return this.#addon === null ? `native addon not loaded (${this.#reason})` : this.#addon.dropCachedPages(fd, offset, length);
  }

  /** The addon's appendDurable; null without the addon (the caller writes and syncs in two steps). */
  appendDurable(fd: number, chunks: readonly Uint8Array[], position: number, sync: boolean, drop: { offset: number; length: number }): Promise<string> | null {
    checkFileRange('appendDurable', fd, position, 0);
    checkFileRange('appendDurable drop', fd, drop.offset, drop.length);
    if (!Array.isArray(chunks) || !chunks.every((chunk) => chunk instanceof Uint8Array)) throw new TypeError('appendDurable: chunks must be an array of Uint8Arrays');
    return this.#addon === null ? null : this.#addon.appendDurable(fd, chunks, position, sync, drop.offset, drop.length);
  }

  cachedPageCount(fd: number, offset: number, length: number): number | null {
    checkFileRange('cachedPageCount', fd, offset, length);
    return this.#addon === null ? null : this.#addon.cachedPageCount(fd, offset, length);
  }

  allocPinned(bytes: number, options?: { numaNode?: number }): PinnedRegion {
    const checkedBytes = checkBytes(bytes);
    const numaNode = this.#checkNumaNode(options);
    if (this.#addon === null) return fallbackRegion(checkedBytes, `native addon not loaded (${this.#reason})`);
    let region: PinnedRegion;
    try {
      region = this.#addon.allocPinned(checkedBytes, numaNode ?? NO_NUMA_NODE);
    } catch (error) {
      // A runtime with the V8 sandbox refuses memory it did not allocate; Node 20 has none.
      if ((error as { code?: unknown }).code !== 'ERR_KVC_NO_EXTERNAL_BUFFERS') throw error;
      return fallbackRegion(checkedBytes, 'this runtime refuses external ArrayBuffers');
    }
    this.#nativeBuffers.add(region.buffer);
    return region;
  }

  /**
   * A pinned region in a new shared-memory file (see index.ts allocShared). Needs the addon:
   * without it this throws an Error with code ERR_KVC_NO_ADDON (plain JavaScript memory cannot be
   * shared with other processes).
   */
  allocShared(path: string, bytes: number, options: { numaNode?: number } | undefined, header: Uint8Array): PinnedRegion {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError('allocShared: path must be an absolute path');
    const checkedBytes = checkBytes(bytes);
    const numaNode = this.#checkNumaNode(options);
    if (!(header instanceof Uint8Array)) throw new TypeError('allocShared: header must be a Uint8Array');
    if (this.#addon === null) {
      throw Object.assign(new Error(`allocShared: native addon not loaded (${this.#reason})`), { code: 'ERR_KVC_NO_ADDON' });
    }
    const raw = this.#addon.allocShared(path, checkedBytes, numaNode ?? NO_NUMA_NODE, header);
    const { fileBytes, dataOffset, ...region } = raw;
    this.#nativeBuffers.add(region.buffer);
    // The header that pinned-memory.ts wrote names this offset; the two must agree.
    assert.equal(dataOffset, SHARED_DATA_OFFSET, 'allocShared: the addon\'s data offset differs from SHARED_DATA_OFFSET');
    return { ...region, shared: { path, fileBytes, dataOffset } };
  }

  /** Where a shared region's payload starts in its file; the addon's constant, or its value without it. */
  sharedDataOffset(): number {
    return this.#addon?.sharedDataOffset ?? SHARED_DATA_OFFSET;
  }

  /** A reader of a shared-memory file: the addon's read-only mapping, or pread without it. */
  openSharedFile(path: string): SharedFileReader {
    if (typeof path !== 'string') throw new TypeError('openSharedFile: path must be a string');
    return this.#addon === null ? new PreadReader(path) : new MappedReader(this.#addon, path);
  }

  freePinned(region: PinnedRegion): void {
    const buffer = (region as { buffer?: unknown } | null)?.buffer;
    if (!(buffer instanceof ArrayBuffer)) throw new TypeError('freePinned: region must be what allocPinned returned');
    if (this.#releasedBuffers.has(buffer)) return;
    this.#releasedBuffers.add(buffer);
    if (this.#addon !== null && this.#nativeBuffers.has(buffer)) {
      this.#addon.freePinned(buffer);
      return;
    }
    // Transferring a buffer detaches it; the clone is garbage at once and takes the memory with
    // it. A zero-length buffer is detached already (regions are at least one byte long).
    if (buffer.byteLength > 0) structuredClone(buffer, { transfer: [buffer] });
  }

  /**
   * Tunes glibc malloc for a process that moves MiB-sized payload buffers (see
   * LIMITS.allocator). Not done when `env.KVC_MALLOC_TUNING` is `0`, or when the operator set
   * glibc's own MALLOC_MMAP_THRESHOLD_ (theirs wins); without the addon it says why not.
   */
  tuneAllocator(env: NodeJS.ProcessEnv = process.env): { applied: boolean; note: string } {
    if (env.KVC_MALLOC_TUNING === '0') return { applied: false, note: 'allocator left as it is: KVC_MALLOC_TUNING=0' };
    if (env.MALLOC_MMAP_THRESHOLD_ !== undefined) return { applied: false, note: 'allocator left as it is: MALLOC_MMAP_THRESHOLD_ is set' };
    if (this.#addon === null) return { applied: false, note: `allocator left as it is: ${this.#reason}` };
    const t = LIMITS.allocator;
    return this.#addon.tuneAllocator(t.mmapThresholdBytes, t.trimThresholdBytes, t.topPadBytes);
  }

  /**
   * Hands every free page of the C heap back to the kernel (glibc malloc_trim), those in the
   * middle of the heap too. Without the addon (or off glibc) nothing happens: supported false.
   */
  trimAllocator(): AllocatorTrim {
    if (this.#addon === null) return { supported: false, released: false, freeBytes: 0 };
    return this.#addon.trimAllocator();
  }

  #checkNumaNode(options: unknown): number | undefined {
    if (options === undefined) return undefined;
    if (typeof options !== 'object' || options === null) throw new TypeError('allocPinned: options must be an object');
    const node = (options as { numaNode?: unknown }).numaNode;
    if (node === undefined) return undefined;
    if (typeof node !== 'number') throw new TypeError(`allocPinned: numaNode must be a number, got ${typeof node}`);
    const ids = this.numaTopology().map((known) => known.id);
    if (!Number.isInteger(node) || node < 0 || node > NUMA_NODE_ID_MAX || !ids.includes(node)) {
      throw new RangeError(`allocPinned: NUMA node ${node} does not exist here (nodes: ${ids.join(', ')})`);
    }
    return node;
  }
}
