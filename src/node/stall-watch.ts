// Tells when a member's event loop stalled: a tick that comes half an election timeout late means
// the loop could not run, so a leader sent no heartbeats meanwhile (its followers may campaign)
// and a follower answered none. The member's ticker (node.ts) calls `tick()` each tick; every
// stall is counted through the observer (kvc_event_loop_stall_seconds), and at most one log line
// per STALL_LOG_INTERVAL_MS says it, so a member starved for minutes does not flood its log.
import { notify, type NodeObserver } from './observer.js';

/** At most one log line about event-loop stalls per this interval (the metric counts every one). */
const STALL_LOG_INTERVAL_MS = 10_000;

export interface StallWatchOptions {
  id: number;
  /** A gap between ticks of at least this many ms is a stall. */
  stallMs: number;
  /** The member's role now ('leader', 'follower', ...), for the log line. */
  role: () => string;
  observer: NodeObserver | undefined;
  log: (line: string) => void;
}

export class StallWatch {
  readonly #o: StallWatchOptions;
  /** When the last tick ran, and the process's CPU time then. */
  #last = { ms: performance.now(), cpu: process.cpuUsage() };
  /** When the last stall was logged, and the stalls since that were not. */
  #logged = { atMs: -Infinity, unlogged: 0 };

  constructor(o: StallWatchOptions) {
    this.#o = o;
  }

  /** Called at every tick: reports the gap since the previous one when it is a stall. */
  tick(): void {
    const now = performance.now();
    const gapMs = now - this.#last.ms;
    const cpu = process.cpuUsage();
    if (gapMs >= this.#o.stallMs) this.#report(gapMs, cpu);
    this.#last = { ms: now, cpu };
  }

  /**
   * The CPU time the process spent in the gap tells the two causes apart: about the gap, it was
   * busy (synchronous work on this thread, or other threads of the process); far less, it was not
   * given a CPU (an overloaded machine) or it waited in a blocking call.
   */
  #report(gapMs: number, cpu: NodeJS.CpuUsage): void {
    const cpuMs = (cpu.user - this.#last.cpu.user + cpu.system - this.#last.cpu.system) / 1000;
    notify(this.#o.observer, (o) => o.eventLoopStalled?.(gapMs / 1000, cpuMs / 1000));
    const now = performance.now();
    if (now - this.#logged.atMs < STALL_LOG_INTERVAL_MS) {
      this.#logged.unlogged++;
      return;
    }
    const unlogged = this.#logged.unlogged;
    this.#logged = { atMs: now, unlogged: 0 };
    this.#o.log(
      `member ${this.#o.id} (${this.#o.role()}): the event loop stalled ${Math.round(gapMs)} ms between ticks ` +
        `(process CPU ${Math.round(cpuMs)} ms meanwhile: ${cpuMs >= gapMs / 2 ? 'busy' : 'starved or blocked'}); heartbeats were late` +
        (unlogged > 0 ? ` (${unlogged} more stall(s) since the last such line: kvc_event_loop_stall_seconds counts them all)` : ''),
    );
  }
}
