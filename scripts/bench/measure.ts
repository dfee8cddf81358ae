// Small helpers shared by the disk-backed suites: sizes, percentiles, rounding, bytes on disk,
// temp directories and waiting on a condition with a deadline.
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;
const MILLISECONDS_PER_SECOND = 1000;
/** How often `waitFor` polls its condition. */
const POLL_INTERVAL_MS = 10;

export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${round(bytes / GIB, 2)} GiB`;
  if (bytes >= MIB) return `${round(bytes / MIB, 1)} MiB`;
  if (bytes >= KIB) return `${round(bytes / KIB, 1)} KiB`;
  return `${bytes} B`;
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The q-quantile (0..1) of `values` by nearest rank; NaN for none. The array is sorted in place. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * values.length));
  return values[Math.min(values.length, rank) - 1]!;
}

/** MiB per second for `bytes` moved in `ms` milliseconds. */
export function mibPerSecond(bytes: number, ms: number): number {
  return bytes / MIB / (ms / MILLISECONDS_PER_SECOND);
}

export function seconds(ms: number): number {
  return ms / MILLISECONDS_PER_SECOND;
}

/** Apparent size of every file under `dir` (what `du -sb` prints). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

/** Runs `body` with a fresh directory under os.tmpdir(), removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, body: (dir: string) => Promise<T>, parent: string = os.tmpdir()): Promise<T> {
  const dir = await mkdtemp(path.join(parent, prefix));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/**
 * `write_bytes` from the text of /proc/<pid>/io: the bytes the process caused to be sent to the
 * storage layer, counted when pages are dirtied (so a write still in the page cache counts).
 * NaN if the field is missing.
 */
export function parseWriteBytes(procIoText: string): number {
  const match = /^write_bytes:\s*(\d+)\s*$/m.exec(procIoText);
  return match ? Number(match[1]) : Number.NaN;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux architecture we run). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, every thread) in ms from the text of /proc/<pid>/stat; NaN if it does
 * not parse. The command name (field 2) may hold spaces and parentheses, so fields are counted
 * from its closing parenthesis: utime and stime are fields 14 and 15.
 */
export function parseCpuMs(procStatText: string): number {
  const fields = procStatText.slice(procStatText.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime) || fields.length < 13) return Number.NaN;
  return ((utime + stime) * MILLISECONDS_PER_SECOND) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The milliseconds block device `major`:`minor` has spent with I/O in flight (`io_ticks`, the
 * 13th field of its line in /proc/diskstats, after major, minor and name), from that file's
 * text; NaN when no line names the device. Device-wide: every process's I/O counts.
 */
export function parseDiskBusyMs(diskstatsText: string, major: number, minor: number): number {
  for (const line of diskstatsText.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (Number(fields[0]) !== major || Number(fields[1]) !== minor) continue;
    const busy = Number(fields[12]);
    return Number.isSafeInteger(busy) ? busy : Number.NaN;
  }
  return Number.NaN;
}

/** The major and minor numbers of a Linux dev_t (stat's `dev`), split as glibc's gnu_dev_major and gnu_dev_minor do. */
export function deviceNumbers(dev: number | bigint): { major: number; minor: number } {
  const d = BigInt(dev);
  const low32 = 0xffff_ffffn;
  return {
    major: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn & low32)),
    minor: Number((d & 0xffn) | ((d >> 12n) & ~0xffn & low32)),
  };
}

/** Bytes this process caused to be written to storage so far (Linux /proc/self/io), or NaN elsewhere. */
export function processWriteBytes(): number {
  try {
    return parseWriteBytes(readFileSync('/proc/self/io', 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** What the process did over a stretch of time: CPU cores kept busy and bytes written to storage. */
export class ResourceMeter {
  readonly #cpu = process.cpuUsage();
  readonly #writeBytes = processWriteBytes();
  readonly #started = performance.now();

  /** Average cores busy (user + system, every thread of the process) and bytes written since construction. */
  read(): { cpuCores: number; writeBytes: number } {
    const cpu = process.cpuUsage(this.#cpu);
    const elapsedMicroseconds = (performance.now() - this.#started) * MILLISECONDS_PER_SECOND;
    return { cpuCores: (cpu.user + cpu.system) / elapsedMicroseconds, writeBytes: processWriteBytes() - this.#writeBytes };
  }
}
