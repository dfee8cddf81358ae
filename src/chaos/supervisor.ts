// The member processes of a chaos run: real `kvc start` processes, each in its own process group
// with an IPC channel, its stderr appended to a log file. The supervisor starts them (resolving
// once the member reports `ready` over IPC), kills (SIGKILL), stops (SIGTERM, then SIGKILL),
// pauses (SIGSTOP) and resumes (SIGCONT) them, notices exits it did not cause, and stops them all
// at the end.
//
// Nothing outlives the harness: a normal end stops every member; the 'exit' hook (installed by
// run.ts) SIGKILLs every process group left; and a member whose IPC channel closes (the harness
// was killed outright) stops by itself (src/cli/commands/start.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const KVC_BIN = fileURLToPath(new URL('../../bin/kvc.js', import.meta.url));
/** A member loads the TypeScript sources and opens its WAL and store: seconds on a loaded machine. */
export const MEMBER_READY_TIMEOUT_MS = 60_000;
/** A clean stop flushes and closes the WAL and store; well under a second normally. */
export const MEMBER_STOP_GRACE_MS = 10_000;
/** How much of a member's log an error message quotes. */
const LOG_TAIL_BYTES = 2_048;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type MemberProcessState = 'starting' | 'running' | 'paused' | 'exited';

export interface MemberProcess {
  id: number;
  pid: number;
  state: MemberProcessState;
  /** True once the harness asked it to stop or killed it (its exit is then expected). */
  stopping: boolean;
  exited: Promise<ProcessExit>;
  exit: ProcessExit | undefined;
  child: ChildProcess;
}

/** A member that exited (or never said ready) while starting; carries the end of its log. */
export class MemberStartError extends Error {
  readonly id: number;
  readonly exit: ProcessExit | undefined;
  readonly logTail: string;

  constructor(id: number, why: string, exit: ProcessExit | undefined, logTail: string) {
    super(`member ${id} did not start: ${why}${logTail === '' ? '' : `; the end of its log:\n${logTail}`}`);
    this.name = 'MemberStartError';
    this.id = id;
    this.exit = exit;
    this.logTail = logTail;
  }
}

export interface StartSpec {
  id: number;
  /** Arguments after `kvc start`. */
  args: string[];
  logFile: string;
  /** Extra environment variables of the member process. */
  env?: Record<string, string>;
}

export class ProcessSupervisor {
  readonly #members = new Map<number, MemberProcess>();
  /** Called when a member exits without the harness having stopped or killed it. */
  onUnexpectedExit: (member: MemberProcess, exit: ProcessExit) => void = () => undefined;

  get(id: number): MemberProcess | undefined {
    return this.#members.get(id);
  }

  /** Whether member `id` has a live process (running or paused). */
  isUp(id: number): boolean {
    const member = this.#members.get(id);
    return member !== undefined && member.state !== 'exited';
  }

  /** Starts `kvc start <args>` and resolves once the member serves; rejects with MemberStartError. */
  async start(spec: StartSpec): Promise<MemberProcess> {
    if (this.isUp(spec.id)) throw new Error(`member ${spec.id} is already running`);
    const logFd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [KVC_BIN, 'start', ...spec.args], { stdio: ['ignore', logFd, logFd, 'ipc'], detached: true, env: spec.env === undefined ? process.env : { ...process.env, ...spec.env } });
    } finally {
      closeSync(logFd);
    }
    if (child.pid === undefined) throw new MemberStartError(spec.id, 'the process could not be spawned', undefined, '');
    let markExited: (exit: ProcessExit) => void = () => undefined;
    const member: MemberProcess = {
      id: spec.id,
      pid: child.pid,
      state: 'starting',
      stopping: false,
      exited: new Promise<ProcessExit>((resolve) => (markExited = resolve)),
      exit: undefined,
      child,
    };
    child.on('error', () => undefined); // An IPC send error must not crash the harness; exits are reported below.
    child.on('exit', (code, signal) => {
      member.exit = { code, signal };
      member.state = 'exited';
      markExited(member.exit);
      if (!member.stopping) this.onUnexpectedExit(member, member.exit);
    });
    this.#members.set(spec.id, member);
    await this.#awaitReady(member, spec.logFile);
    member.state = 'running';
    return member;
  }

  /** SIGKILL, as a crash; resolves once the process is gone. */
  async kill(id: number): Promise<void> {
    const member = this.#members.get(id);
    if (member === undefined || member.state === 'exited') return;
    member.stopping = true;
    signal(member, 'SIGKILL');
    await member.exited;
  }

  /** A clean stop: SIGTERM (after SIGCONT if paused), SIGKILL after `graceMs`. */
  async stop(id: number, graceMs = MEMBER_STOP_GRACE_MS): Promise<ProcessExit | undefined> {
    const member = this.#members.get(id);
    if (member === undefined || member.state === 'exited') return member?.exit;
    member.stopping = true;
    if (member.state === 'paused') this.resume(id);
    signal(member, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([member.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      signal(member, 'SIGKILL');
      await member.exited;
    }
    return member.exit;
  }

  pause(id: number): void {
    const member = this.#members.get(id);
    if (member?.state !== 'running') return;
    signal(member, 'SIGSTOP');
    member.state = 'paused';
  }

  resume(id: number): void {
    const member = this.#members.get(id);
    if (member?.state !== 'paused') return;
    signal(member, 'SIGCONT');
    member.state = 'running';
  }

  /** Stops every member cleanly (in parallel); resolves once all have exited. */
  async stopAll(graceMs = MEMBER_STOP_GRACE_MS): Promise<void> {
    await Promise.all([...this.#members.keys()].map((id) => this.stop(id, graceMs)));
  }

  /** Last resort, synchronous (safe in an 'exit' hook): SIGKILL every member's process group. */
  killAllSync(): void {
    for (const member of this.#members.values()) {
      if (member.state === 'exited') continue;
      member.stopping = true;
      try {
        // Negative pid: the whole group the member leads (detached), whatever it spawned.
        process.kill(-member.pid, 'SIGKILL');
      } catch {
        signal(member, 'SIGKILL');
      }
    }
  }

  async #awaitReady(member: MemberProcess, logFile: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let onMessage: (message: unknown) => void = () => undefined;
    const ready = new Promise<'ready'>((resolve) => {
      onMessage = (message) => {
        if ((message as { type?: unknown } | null)?.type === 'ready') resolve('ready');
      };
      member.child.on('message', onMessage);
    });
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), MEMBER_READY_TIMEOUT_MS)));
    const outcome = await Promise.race([ready, member.exited.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    member.child.off('message', onMessage);
    if (outcome === 'ready') return;
    if (outcome === 'timeout') {
      member.stopping = true;
      signal(member, 'SIGKILL');
      await member.exited;
    }
    const why = outcome === 'timeout' ? `not ready within ${MEMBER_READY_TIMEOUT_MS} ms` : `exited ${describeExit(member.exit!)} before it was ready`;
    throw new MemberStartError(member.id, why, member.exit, await logTail(logFile));
  }
}

function signal(member: MemberProcess, name: NodeJS.Signals): void {
  try {
    member.child.kill(name);
  } catch {
    // Already gone: nothing to signal.
  }
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal !== null ? `on signal ${exit.signal}` : `with code ${exit.code ?? '?'}`;
}

/** The last LOG_TAIL_BYTES of a log file ('' if unreadable). */
export async function logTail(file: string, bytes = LOG_TAIL_BYTES): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').trimEnd();
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
