// Waiting for an operator's "stop": SIGINT (Ctrl-C), SIGTERM, or SIGHUP (the terminal closed).
// Long-running commands (start, dev, status --watch) race their work against it and clean up
// after. A signal repeated a while after the first means "stop now" (`onRepeat`); one repeated at
// once is the same request delivered twice (a terminal signals the whole process group, and
// `npm start` forwards the signal it got to its child) and is ignored.

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** A repeat sooner than this after the first signal counts as the same request. */
export const REPEATED_SIGNAL_GAP_MS = 1_000;

export interface StopSignalOptions {
  /** Called for a signal that arrives at least REPEATED_SIGNAL_GAP_MS after the stop began. */
  onRepeat?: (signal: NodeJS.Signals) => void;
  /** The signals that mean stop (default SIGINT, SIGTERM, SIGHUP; `kvc start` keeps SIGHUP for reloading its TLS files). */
  signals?: readonly NodeJS.Signals[];
}

export class StopSignal {
  readonly #controller = new AbortController();
  readonly #handlers = new Map<NodeJS.Signals, () => void>();
  readonly #onRepeat: ((signal: NodeJS.Signals) => void) | undefined;
  #reason = '';
  #triggeredAtMs = 0;
  readonly promise: Promise<string>;

  constructor(o: StopSignalOptions = {}) {
    this.#onRepeat = o.onRepeat;
    let resolve: (reason: string) => void = () => {};
    this.promise = new Promise<string>((r) => (resolve = r));
    this.#controller.signal.addEventListener('abort', () => resolve(this.#reason), { once: true });
    for (const name of o.signals ?? STOP_SIGNALS) {
      const handler = (): void => this.#onSignal(name);
      this.#handlers.set(name, handler);
      process.on(name, handler);
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get triggered(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Requests the stop (also used for reasons other than a signal). The first reason wins. */
  trigger(reason: string): void {
    if (this.triggered) return;
    this.#reason = reason;
    this.#triggeredAtMs = Date.now();
    this.#controller.abort(new Error(`stopped: ${reason}`));
  }

  /** Stops listening for signals (a later signal then gets Node's default: exit). */
  dispose(): void {
    for (const [name, handler] of this.#handlers) process.off(name, handler);
    this.#handlers.clear();
  }

  #onSignal(name: NodeJS.Signals): void {
    if (!this.triggered) return this.trigger(name);
    if (Date.now() - this.#triggeredAtMs >= REPEATED_SIGNAL_GAP_MS) this.#onRepeat?.(name);
  }
}

/** `work`, or a rejection once `stop` fires, whichever comes first. */
export async function unlessStopped<T>(work: Promise<T>, stop: StopSignal): Promise<T> {
  if (stop.triggered) throw stop.signal.reason;
  return Promise.race([work, stop.promise.then(() => Promise.reject(stop.signal.reason as Error))]);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
