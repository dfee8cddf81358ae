// `node --import ./test/loader/register.mjs`: registers the test processes' TypeScript loader
// (./hooks.mjs; package.json "tap"."node-arg").
import { appendFileSync } from 'node:fs';
import process from 'node:process';
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);

// tap sends SIGALRM to a test file that ran past its timeout. With KVC_TEST_TIMEOUT_LOG set
// (.ci/run sets it), the file's name and what still kept its event loop alive (a leaked socket,
// timer or child process shows here) are appended to that log, which .ci/run prints at its end.
const timeoutLog = process.env.KVC_TEST_TIMEOUT_LOG;
if (timeoutLog !== undefined && timeoutLog !== '') {
  process.on('SIGALRM', () => {
    const counts = {};
    for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
    const resources = Object.entries(counts).map(([kind, n]) => `${kind} ×${n}`).join(', ');
    try {
      appendFileSync(timeoutLog, `${process.argv[1] ?? '?'}: still active when tap timed it out: ${resources || 'nothing'}\n`);
    } catch {
      // A diagnostic only: never let it change the test's own outcome.
    }
  });
}
