// The seeded fault schedule: which nemesis fires when, and for how long. The enabled nemeses are
// shuffled into a cycle (a seeded permutation) and the run's time is cut into one slot per fault:
// a fault window of a few seconds, then a healing gap. The first cycle is always planned whole,
// even if it does not fit the duration, so that every enabled nemesis fires at least once; more
// cycles follow while they fit. The same seed gives the same plan; actual start times drift when
// a heal (a member start, a re-add) takes longer than its slot, and the runner never starts a
// fault before the previous one healed plus a minimum gap.
import { Prng } from '../sim/index.js';
import type { NemesisName } from './nemesis/index.js';

/** Workload only, before the first fault: leaves time to record a baseline. */
export const WARMUP_MS = 1_500;
/** Shortest and longest fault window. */
export const WINDOW_MS_MIN = 800;
export const WINDOW_MS_MAX = 4_000;
/** Shortest healing gap after a heal before the next fault. */
export const GAP_MS_MIN = 1_000;
/** Longest slot (window plus gap): long runs cycle through the nemeses again rather than spread them thin. */
export const SLOT_MS_MAX = 12_000;
/** Bound on the number of faults in one run, whatever the duration. */
export const FAULTS_MAX = 200;

export interface PlannedFault {
  nemesis: NemesisName;
  /** Planned start, ms after the workload started. */
  atMs: number;
  windowMs: number;
  /** Part of the first cycle (always run, even past the duration). */
  required: boolean;
}

export function planSchedule(nemeses: readonly NemesisName[], durationMs: number, seed: number): PlannedFault[] {
  if (nemeses.length === 0) return [];
  const prng = new Prng(seed ^ 0x0fa17);
  const slotMs = Math.min(SLOT_MS_MAX, Math.max(WINDOW_MS_MIN + GAP_MS_MIN, (durationMs - WARMUP_MS) / nemeses.length));
  // About half of the slot, and always leaving the healing gap.
  const windowMax = Math.min(WINDOW_MS_MAX, slotMs - GAP_MS_MIN, Math.max(WINDOW_MS_MIN, Math.floor(slotMs * 0.5)));
  const windowMin = Math.max(WINDOW_MS_MIN, Math.floor(windowMax / 2));
  const plan: PlannedFault[] = [];
  let atMs = WARMUP_MS;
  for (let cycle = 0; ; cycle++) {
    for (const nemesis of prng.shuffle(nemeses)) {
      const required = cycle === 0;
      if (plan.length >= FAULTS_MAX || (!required && atMs + slotMs > durationMs)) return plan;
      plan.push({ nemesis, atMs: Math.round(atMs), windowMs: prng.range(windowMin, windowMax), required });
      atMs += slotMs;
    }
  }
}
