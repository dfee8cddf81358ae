// The member's wall clock for decisions that must not jump: TTL expiry, pin expiry and eviction
// recency compare wall-clock stamps (they are replicated in commands and page metadata, so they
// must be wall-clock times), but a member must not expire a pinned page early because NTP or an
// operator stepped the system clock forward by minutes, nor keep everything forever after a step
// back. So the wall clock is read once, when the process starts, and from then on advances only
// with the monotonic clock (performance.now). A step of the system clock while the member runs
// changes nothing here; one between two starts of a member is a skew between members, which these
// decisions already tolerate up to the margins documented in docs/ARCHITECTURE.md (eviction).
// Durations inside one process (deadlines, retry backoff, rate limits) use performance.now()
// directly.
const anchorWallMs = Date.now();
const anchorMonotonicMs = performance.now();

/** Wall-clock milliseconds since the epoch, as of the process start plus the monotonic time since. */
export function steadyWallClockMs(): number {
  return anchorWallMs + Math.floor(performance.now() - anchorMonotonicMs);
}
