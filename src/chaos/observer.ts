// Watches who leads: every POLL_MS it asks every running member for its Status and records each
// member that calls itself leader, with its term (history.leaders), for the election-safety
// checker and the report's leader lane. It also keeps the latest view of the cluster, which the
// nemeses use to aim (leader-biased kills, transfers to a follower).
import type { ChaosCluster } from './cluster.js';
import { sleep } from './cluster.js';
import type { MemberView } from './admin.js';
import type { LeaderObservation } from './history.js';

/** Often enough to see a leader that lasts a few hundred ms, rarely enough to stay cheap. */
export const OBSERVER_POLL_MS = 150;

export class LeaderObserver {
  readonly observations: LeaderObservation[] = [];
  readonly #cluster: ChaosCluster;
  readonly #now: () => number;
  #latest = new Map<number, MemberView>();
  #stopped = false;
  #loop: Promise<void> | undefined;
  #polls = 0;

  constructor(cluster: ChaosCluster, now: () => number) {
    this.#cluster = cluster;
    this.#now = now;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  get polls(): number {
    return this.#polls;
  }

  /** The leader of the highest term in the latest poll, if any member claimed it. */
  get leader(): number | undefined {
    let best: MemberView | undefined;
    for (const view of this.#latest.values()) if (view.role === 'leader' && (best === undefined || view.term > best.term)) best = view;
    return best?.id;
  }

  /** Polls once now (also used by nemeses that need a fresh view). */
  async poll(): Promise<Map<number, MemberView>> {
    const atMs = this.#now();
    const views = await this.#cluster.statuses();
    this.#polls++;
    for (const view of views.values()) {
      if (view.role === 'leader') this.observations.push({ atMs, member: view.id, term: view.term });
    }
    this.#latest = views;
    return views;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const started = this.#now();
      await this.poll();
      await sleep(Math.max(0, OBSERVER_POLL_MS - (this.#now() - started)));
    }
  }
}
