// When a member hands its free heap pages back to the kernel (LIMITS.allocator, malloc_trim
// through the addon). Every LIMITS.allocator.trimIntervalMs it looks whether any entry was applied
// since its last look, and trims only when none was: after a burst of puts the free pages go back
// at the first quiet tick, which bounds the member's RSS as before, but not while puts stream in.
// Then the free pages are reused within the interval anyway, and trimming them cost the trim
// itself (15-70 ms per 10 s on a leader under `kvc bench --page-bytes 2MiB`) and, more, a page
// fault on every 4 KiB page of the next MiB-sized payload buffers: with this, a member's minor
// page faults over such a bench halved (docs/BENCHMARKS.md, peers).

/** Returns the timer's callback: trims when `appliedIndex()` has not moved since the previous call. */
export function trimWhenQuiet(appliedIndex: () => number, trim: () => void): () => void {
  let previous: number | undefined;
  return () => {
    const applied = appliedIndex();
    if (applied === previous) trim();
    previous = applied;
  };
}
