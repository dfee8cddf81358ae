// The child processes of `kvc dev`: spawns member processes, waits for each to report `ready` over
// its IPC channel, notices when one dies, and stops them all (SIGTERM, then SIGKILL after a grace
// period). It never leaves an orphan: on a normal stop it waits for every exit; if this process
// exits some other way, an 'exit' hook kills what is left; and if this process is killed outright,
// each child sees its IPC channel close and stops by itself (see commands/start.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** bin/kvc.js, which member processes run (from dist/cli or a bundle of it: both two folders below the root). */
export const KVC_BIN = fileURLToPath(new URL('../../bin/kvc.js', import.meta.url));

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedChild {
  id: number;
  pid: number;
  process: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<ChildExit>;
  exit: ChildExit | undefined;
  /** Resolves with the address the member reported once it serves. */
  ready: Promise<string>;
}

export interface SpawnSpec {
  id: number;
  command: string;
  args: string[];
}

export class Supervisor {
  readonly #children = new Map<number, ManagedChild>();
  #stopping = false;
  /** Called when a child exits while the supervisor is not stopping it. */
  onUnexpectedExit: (child: ManagedChild, exit: ChildExit) => void = () => {};

  get children(): ManagedChild[] {
    return [...this.#children.values()];
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Children still running. */
  live(): ManagedChild[] {
    return this.children.filter((c) => c.exit === undefined);
  }

  /**
   * Starts a child with stdin closed, stdout and stderr shared with this process, and an IPC
   * channel. The child gets its own process group, so a Ctrl-C at the terminal (which signals the
   * whole foreground group) reaches only this process, which then stops the children in order;
   * otherwise each child would see that signal and then this process's SIGTERM as a second,
   * "stop now" signal.
   */
  spawn(spec: SpawnSpec): ManagedChild {
    const child = spawn(spec.command, spec.args, { stdio: ['ignore', 2, 2, 'ipc'], env: process.env, detached: true });
    if (child.pid === undefined) throw new Error(`could not start member ${spec.id}`);
    let markExited: (exit: ChildExit) => void = () => {};
    const exited = new Promise<ChildExit>((resolve) => (markExited = resolve));
    const managed: ManagedChild = { id: spec.id, pid: child.pid, process: child, exited, exit: undefined, ready: Promise.resolve('') };
    managed.ready = new Promise<string>((resolve, reject) => {
      child.on('message', (message: { type?: string; address?: string }) => {
        if (message?.type === 'ready' && typeof message.address === 'string') resolve(message.address);
      });
      void exited.then((exit) => reject(new Error(`member ${spec.id} (pid ${managed.pid}) exited ${describeExit(exit)} before it was ready`)));
    });
    managed.ready.catch(() => {}); // Observed by whoever awaits it; the exit itself is reported separately.
    child.on('error', () => {}); // Failures surface as an exit; an IPC send error must not crash the parent.
    child.on('exit', (code, signal) => {
      managed.exit = { code, signal };
      markExited(managed.exit);
      if (!this.#stopping) this.onUnexpectedExit(managed, managed.exit);
    });
    this.#children.set(spec.id, managed);
    return managed;
  }

  /**
   * Stops every child: SIGTERM, then SIGKILL to those still running after `graceMs`. Resolves once
   * all have exited.
   */
  async stopAll(graceMs: number): Promise<void> {
    this.#stopping = true;
    const running = this.live();
    for (const child of running) signal(child, 'SIGTERM');
    const allExited = Promise.all(running.map((c) => c.exited));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([allExited, graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const child of this.live()) signal(child, 'SIGKILL');
      await allExited;
    }
  }

  /** Last resort, synchronous (safe in a process 'exit' hook): SIGKILL every child still running. */
  killAllSync(): void {
    this.#stopping = true;
    for (const child of this.live()) signal(child, 'SIGKILL');
  }
}

function signal(child: ManagedChild, name: NodeJS.Signals): void {
  try {
    child.process.kill(name);
  } catch {
    // Already gone: nothing to stop.
  }
}

export function describeExit(exit: ChildExit): string {
  return exit.signal !== null ? `on signal ${exit.signal}` : `with code ${exit.code ?? '?'}`;
}
