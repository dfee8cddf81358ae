// Child processes for the benchmarks that run real servers (the `peers` suite): free loopback
// ports, the bytes a process caused to be written to storage (Linux /proc/<pid>/io), a stop that
// is bounded in time (SIGTERM, then SIGKILL), and a last-resort hook that kills whatever is still
// running when the benchmark process exits, so that no server is ever left behind.
import { type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { deviceNumbers, parseCpuMs, parseDiskBusyMs, parseWriteBytes } from './measure.js';
import { pidAlive } from './ports.js';

export { freePortRange, pidAlive } from './ports.js';

/**
 * The first line `child` prints on stdout, parsed as JSON: how a server started here says it is up
 * (`kvc dev --json`, raw-server.ts). Rejects, with the tail of its stderr, when it prints nothing
 * within `timeoutMs`, exits first, or the line is not JSON.
 */
export function readFirstJsonLine<T>(child: ChildProcess, log: TailBuffer, what: string, timeoutMs: number): Promise<T> {
  let stdout = '';
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} printed no line in ${timeoutMs} ms:\n${log.text()}`)), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout.slice(0, newline)) as T);
      } catch (error) {
        reject(error as Error);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was up:\n${log.text()}`));
    });
  });
}

/** Lines of a child's stderr kept to explain a failure. */
const STDERR_TAIL_LINES = 40;

/** write_bytes of process `pid` (bytes it caused to be written to storage), or NaN where unreadable. */
export function processWriteBytesOf(pid: number): number {
  try {
    return parseWriteBytes(readFileSync(`/proc/${pid}/io`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** write_bytes of every pid, summed (NaN if any is unreadable: a partial sum would mislead). */
export function totalWriteBytes(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + processWriteBytesOf(pid), 0);
}

/**
 * The milliseconds the block device holding `dir` has been busy from now on (/proc/diskstats
 * io_ticks, device-wide), as cpuMeter measures CPU; undefined where that cannot be told (not
 * Linux, or a filesystem on no block device: tmpfs, overlay).
 */
export function diskBusyMeter(dir: string): (() => number) | undefined {
  try {
    const { major, minor } = deviceNumbers(statSync(dir).dev);
    const read = (): number => parseDiskBusyMs(readFileSync('/proc/diskstats', 'utf8'), major, minor);
    const before = read();
    return Number.isNaN(before) ? undefined : () => read() - before;
  } catch {
    return undefined;
  }
}

/** CPU ms (user + system, all threads) process `pid` has used, or NaN where unreadable. */
export function processCpuMs(pid: number): number {
  try {
    return parseCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU used from now on by the server processes `pids` (summed) and by this process (the client):
 * on a shared machine, throughput swings with the load, CPU per byte much less.
 */
export function cpuMeter(pids: number[]): () => { serverCpuMs: number; clientCpuMs: number } {
  const serverBefore = pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const clientBefore = process.cpuUsage();
  return () => {
    const client = process.cpuUsage(clientBefore);
    return {
      serverCpuMs: pids.reduce((sum, pid) => sum + processCpuMs(pid), 0) - serverBefore,
      clientCpuMs: (client.user + client.system) / 1000,
    };
  };
}

function exitedOrTimeout(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, and SIGKILL if it has not exited after `graceMs`; resolves once it is gone. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await exitedOrTimeout(child, graceMs)) return;
  child.kill('SIGKILL');
  await exitedOrTimeout(child, graceMs);
}

/**
 * Pids to SIGKILL if this process exits with them still alive (an exception that skipped a
 * `finally`, process.exit from elsewhere). Register on start, unregister once stopped.
 */
const leftovers = new Set<number>();
/** Temp dirs of those servers, removed after the kill (a normal run removes them itself). */
const leftoverDirs = new Set<string>();
process.on('exit', () => {
  for (const pid of leftovers) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of leftoverDirs) rmSync(dir, { recursive: true, force: true });
});
/**
 * Node's default on these signals ends the process without 'exit' handlers, which would orphan
 * servers started detached or killed with only this process (`kill <pid>`). Exit the same way,
 * with the conventional code, but through process.exit so that the hook above runs.
 */
const STOP_SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
const SIGNAL_EXIT_CODE_BASE = 128;
for (const [signal, number] of Object.entries(STOP_SIGNALS)) {
  process.once(signal, () => process.exit(SIGNAL_EXIT_CODE_BASE + number));
}

export function killOnExit(pid: number): void {
  leftovers.add(pid);
}

export function forgetOnExit(pid: number): void {
  leftovers.delete(pid);
}

/** Runs `body` with `dir` registered for removal should this process exit before `body` ends. */
export async function removingOnExit<T>(dir: string, body: () => Promise<T>): Promise<T> {
  leftoverDirs.add(dir);
  try {
    return await body();
  } finally {
    leftoverDirs.delete(dir);
  }
}

/** Keeps the last lines a stream printed (a server's log), to quote when it fails. */
export class TailBuffer {
  readonly #lines: string[] = [];
  #partial = '';

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop()!;
    this.#lines.push(...parts);
    if (this.#lines.length > STDERR_TAIL_LINES) this.#lines.splice(0, this.#lines.length - STDERR_TAIL_LINES);
  }

  text(): string {
    return [...this.#lines, this.#partial].join('\n').trim();
  }
}
