// Who may use the member's store when. Reads (getPage, readPage, digest, removals), applies and
// flushes are *shared*: LevelDB serves reads beside writes, and PageStore queues its own applies
// and flushes in call order, so none of them needs to wait for another. Replacing the store with a
// snapshot image is *exclusive*: it closes the store, so it waits until the shared users in flight
// are done, and shared users that arrive meanwhile wait for it to finish and then use the new one.
// (The first-come lock this replaces made every read queue behind every other read and apply.)

export class StoreGate {
  #active = 0;
  /** Settles when the exclusive section in progress (if any) ends. */
  #exclusive: Promise<void> | undefined;
  /** Wakes the exclusive section waiting for the shared users to drain. */
  #drained: (() => void) | undefined;

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive !== undefined) await this.#exclusive;
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      if (this.#active === 0) this.#drained?.();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive !== undefined) await this.#exclusive;
    let release!: () => void;
    this.#exclusive = new Promise<void>((resolve) => (release = resolve));
    try {
      while (this.#active > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      this.#drained = undefined;
      return await fn();
    } finally {
      this.#exclusive = undefined;
      release();
    }
  }

  /** Resolves once nothing uses the store (for a stop: no new users come after it). */
  async idle(): Promise<void> {
    await this.exclusive(async () => undefined);
  }
}
