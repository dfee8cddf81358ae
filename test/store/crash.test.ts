// Proves that appliedIndex and the data it covers move together through a real crash: a child
// process applies put batches (sync on) to a real LevelDB store and is killed with SIGKILL at a
// random moment, three times over the same directory. After each kill the reopened store must
// hold every page up to its appliedIndex and none after it, with matching stats, and its
// appliedIndex must be at least the last index the child reported as applied (an acknowledged
// batch is durable). The same again with pages large enough for blob files: a kill between the
// blob append and the LevelDB batch leaves only unreferenced bytes, every indexed page reads back
// intact (the open itself asserts that every ref lies inside its file), and putting the last
// pages again is answered ok and changes nothing (WAL replay stays idempotent).

import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { items, key, openStore, page, put, tempDirs } from './helpers.js';
import { childEnv } from '../cli/helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/apply-until-killed.ts', import.meta.url));
const ROUNDS = 3;
/** Batches the child reports before the kill timer starts, so every round writes something. */
const BATCHES_BEFORE_KILL = 5;
const KILL_DELAY_MS_MAX = 150;
const CHILD_TIMEOUT_MS = 20_000;

const dirs = await tempDirs();
t.teardown(() => dirs.cleanup());

/** Runs the child until it has reported a few batches, kills it at a random later moment. */
function runAndKill(dir: string, pageBytes = 16 * 1024): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(pageBytes)], { stdio: ['ignore', 'pipe', 'inherit'], env: childEnv() });
    let reported = 0;
    let batches = 0;
    let buffered = '';
    const timeout = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) reported = Number(line.split(' ')[1]);
      batches += lines.length;
      if (batches >= BATCHES_BEFORE_KILL && batches - lines.length < BATCHES_BEFORE_KILL) {
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * KILL_DELAY_MS_MAX));
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timeout);
      if (signal === 'SIGKILL' && batches >= BATCHES_BEFORE_KILL) resolve(reported);
      else reject(new Error(`child ended with signal ${String(signal)} after ${batches} batches`));
    });
  });
}

t.test('a SIGKILLed store keeps appliedIndex and data together', async (t) => {
  const dir = dirs.path('crash');
  let previous = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const reported = await runAndKill(dir);
    const store = await openStore(dir);
    const applied = store.appliedIndex();
    t.ok(applied >= reported, `round ${round}: appliedIndex ${applied} covers the last reported ${reported}`);
    t.ok(applied > previous, `round ${round}: progress was made`);
    const keys = Array.from({ length: applied + 1 }, (_, i) => key(i + 1));
    t.equal(await store.lookup('crash', keys), applied, `round ${round}: pages 1..${applied} present, ${applied + 1} absent`);
    t.equal(store.stats().pages, applied, `round ${round}: stats agree`);
    t.ok((await store.getPage('crash', key(applied))) !== undefined, `round ${round}: the last page verifies`);
    await store.close();
    previous = applied;
  }
});

t.test('a SIGKILLed store with blob files serves every indexed page intact', async (t) => {
  const dir = dirs.path('crash-blobs');
  const pageBytes = 96 * 1024;
  for (let round = 1; round <= ROUNDS; round++) {
    const reported = await runAndKill(dir, pageBytes);
    const store = await openStore(dir);
    const applied = store.appliedIndex();
    t.ok(applied >= reported, `round ${round}: appliedIndex ${applied} covers the last reported ${reported}`);
    // Keys follow entry indexes, less the entries of the replays below (which added no page).
    let intact = 0;
    for (let i = 1; i <= applied; i++) if ((await store.getPage('crash', key(i)))?.data.byteLength === pageBytes) intact++;
    t.equal(intact, store.stats().pages, `round ${round}: all ${intact} indexed pages read back and verify`);
    t.ok((await store.getPage('crash', key(applied))) !== undefined, `round ${round}: the last page is there`);
    t.ok(store.blobStats().files >= round, `round ${round}: payloads live in blob files (${store.blobStats().files})`);
    const pagesBefore = store.stats().pages;
    const again = Array.from({ length: 4 }, (_, i) => put(page('crash', applied - i, applied - i, pageBytes)));
    const results = await store.apply(items(applied + 1, ...again));
    t.ok(results.every((r) => r.ok), `round ${round}: replayed puts are answered ok`);
    t.equal(store.stats().pages, pagesBefore, `round ${round}: and add nothing`);
    await store.close();
  }
});
