// Proves the members' trim policy (src/member/allocator-trim.ts): no trim at the first look nor
// while entries are applied between looks; a trim at every look that found the applied index
// where the previous look left it.
import t from 'tap';
import { trimWhenQuiet } from '../../src/member/allocator-trim.js';

t.test('trims only after an interval in which nothing was applied', async (t) => {
  let applied = 10;
  let trims = 0;
  const tick = trimWhenQuiet(() => applied, () => trims++);
  tick();
  t.equal(trims, 0, 'the first look has nothing to compare with');
  applied = 12;
  tick();
  t.equal(trims, 0, 'entries applied since the last look: busy, no trim');
  tick();
  t.equal(trims, 1, 'a quiet interval: trim');
  tick();
  t.equal(trims, 2, 'still quiet: trim again (as the timer did before)');
  applied = 13;
  tick();
  t.equal(trims, 2, 'busy again');
});
