// Proves the seeded fault schedule's promises: every enabled nemesis is planned at least once
// (even when the duration is too short for all of them), windows stay within their bounds and
// leave a healing gap, later cycles are planned only while they fit the duration, the plan is a
// pure function of the seed, and the count is bounded.
import t from 'tap';
import { NEMESIS_NAMES } from '../../src/chaos/nemesis/types.js';
import { FAULTS_MAX, GAP_MS_MIN, WARMUP_MS, WINDOW_MS_MAX, WINDOW_MS_MIN, planSchedule } from '../../src/chaos/schedule.js';

t.test('every nemesis fires at least once, whatever the duration', async (t) => {
  for (const durationMs of [5_000, 30_000, 60_000, 300_000]) {
    const plan = planSchedule(NEMESIS_NAMES, durationMs, 42);
    for (const name of NEMESIS_NAMES) t.ok(plan.some((p) => p.nemesis === name), `${name} planned in ${durationMs} ms`);
    t.same(new Set(plan.filter((p) => p.required).map((p) => p.nemesis)), new Set(NEMESIS_NAMES), 'the first cycle is one of each');
    t.ok(plan.every((p, i) => i === 0 || p.atMs > plan[i - 1]!.atMs), 'in time order');
    t.equal(plan[0]!.atMs, WARMUP_MS);
    for (const p of plan) {
      t.ok(p.windowMs >= WINDOW_MS_MIN && p.windowMs <= WINDOW_MS_MAX, `window ${p.windowMs} within bounds`);
      if (!p.required) t.ok(p.atMs + p.windowMs <= durationMs, 'later cycles fit the duration');
    }
    for (let i = 1; i < plan.length; i++) t.ok(plan[i]!.atMs - plan[i - 1]!.atMs >= plan[i - 1]!.windowMs + GAP_MS_MIN - 1, 'a healing gap after each window');
  }
});

t.test('long runs cycle through the nemeses again; the count is bounded', async (t) => {
  const plan = planSchedule(['kill', 'pause'], 120_000, 1);
  t.ok(plan.length > 2, `${plan.length} faults in 2 minutes`);
  t.ok(plan.filter((p) => p.nemesis === 'kill').length >= 2);
  t.ok(planSchedule(['kill'], 3_600_000, 1).length <= FAULTS_MAX);
});

t.test('the plan depends only on the seed', async (t) => {
  t.same(planSchedule(NEMESIS_NAMES, 60_000, 3), planSchedule(NEMESIS_NAMES, 60_000, 3));
  t.not(JSON.stringify(planSchedule(NEMESIS_NAMES, 60_000, 3)), JSON.stringify(planSchedule(NEMESIS_NAMES, 60_000, 4)));
  t.same(planSchedule([], 60_000, 3), [], 'no nemesis, no fault');
});
