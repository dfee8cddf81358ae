// Proves the member's store gate (src/node/store-gate.ts) with plain promises: shared users run
// together (a read never waits for another read or an apply); an exclusive section waits for the
// shared users in flight, and shared users that arrive meanwhile wait for it and then run.
import t from 'tap';
import { StoreGate } from '../../src/node/store-gate.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

t.test('shared users overlap; exclusive waits for them and holds off new ones', async (t) => {
  const gate = new StoreGate();
  const log: string[] = [];
  const a = deferred();
  const b = deferred();
  const first = gate.shared(async () => {
    log.push('a start');
    await a.promise;
    log.push('a end');
  });
  const second = gate.shared(async () => {
    log.push('b start');
    await b.promise;
    log.push('b end');
  });
  await new Promise((r) => setImmediate(r));
  t.same(log, ['a start', 'b start'], 'two shared users run at once');
  const install = gate.exclusive(async () => log.push('install'));
  const late = gate.shared(async () => log.push('late read'));
  await new Promise((r) => setImmediate(r));
  b.resolve();
  await second;
  t.notOk(log.includes('install'), 'the exclusive section waits for every shared user');
  a.resolve();
  await Promise.all([first, install, late]);
  t.same(log.slice(-2), ['install', 'late read'], 'a shared user that came during the wait runs after it');
  await gate.idle();
  t.pass('idle when nothing runs');
});

t.test('a failing user releases the gate', async (t) => {
  const gate = new StoreGate();
  await t.rejects(gate.shared(async () => Promise.reject(new Error('read failed'))));
  await t.rejects(gate.exclusive(async () => Promise.reject(new Error('install failed'))));
  t.equal(await gate.shared(async () => 7), 7);
});
