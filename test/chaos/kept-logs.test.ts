// What a `kvc chaos` run leaves of its work directory (src/chaos/kept-dir.ts): everything with
// --keep; the members' logs of a run that failed its checks, and of one whose checks passed but
// that had incidents (a member that did not come back: the incident names its log, which a run of
// the fifteenth session deleted); nothing of a clean run, nor where the logs went to --report's
// directory anyway.
import t from 'tap';
import { keptDirOf } from '../../src/chaos/kept-dir.js';

const root = '/tmp/kvc-chaos-x';
const logs = `${root}/logs`;
const clean = { verdict: { ok: true }, incidents: [] };
const incident = { verdict: { ok: true }, incidents: ['member 1 (pid 1) exited on its own with code 1; see /tmp/kvc-chaos-x/logs/n1.log'] };
const failed = { verdict: { ok: false }, incidents: [] };

t.test('the logs of a run with a failure or an incident are kept; a clean run leaves nothing', async (t) => {
  t.equal(keptDirOf({}, root, logs, clean), undefined, 'a clean run: nothing');
  t.equal(keptDirOf({}, root, logs, incident), logs, 'an incident: the logs');
  t.equal(keptDirOf({}, root, logs, failed), logs, 'a failed check: the logs');
  t.equal(keptDirOf({ keep: true }, root, logs, clean), root, '--keep: everything');
  t.equal(keptDirOf({ logDir: '/r/logs' }, root, '/r/logs', incident), undefined, 'logs under --report are outside the work directory already');
});
