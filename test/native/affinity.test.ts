// Proves that setThreadAffinity pins the calling thread and only it: the main thread pinned to
// CPU 0 reports [0] and is restored to all its CPUs afterwards; a worker thread that pins itself
// leaves the main thread's CPUs unchanged; CPUs the process may not use are refused (false,
// nothing changed); and bad arguments throw TypeError or RangeError. Skips, saying why, when the
// addon is not loaded (the fallback's answer, false, is tested in fallback.test.ts).

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { NATIVE_DIR } from '../../src/native/addon.js';
import { numaTopology, setThreadAffinity, threadAffinity } from '../../src/native/index.js';
import { skipWithoutAddon } from './helpers.js';

const WORKER_TIMEOUT_MS = 20_000;

// The worker loads the addon itself (plain JavaScript, no TypeScript loader needed in it).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.nodeGypBuild)(workerData.nativeDir);
const applied = addon.setThreadAffinity([workerData.cpu]);
parentPort.postMessage({ applied, inside: addon.threadAffinity() });
`;

function pinInWorker(cpu: number): Promise<{ applied: boolean; inside: number[] }> {
  const nodeGypBuild = createRequire(import.meta.url).resolve('node-gyp-build');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { nodeGypBuild, nativeDir: NATIVE_DIR, cpu } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker did not answer')), WORKER_TIMEOUT_MS);
    worker.once('message', (message: { applied: boolean; inside: number[] }) => {
      clearTimeout(timer);
      void worker.terminate().then(() => resolve(message));
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

t.test('the main thread: pin to CPU 0, then undo', { skip: skipWithoutAddon }, async (t) => {
  const original = threadAffinity();
  t.ok(original !== null && original.length >= 1, `allowed CPUs now: ${original?.join(',')}`);
  t.teardown(() => void setThreadAffinity(original!));
  t.equal(setThreadAffinity([0]), true, 'pinned to CPU 0');
  t.same(threadAffinity(), [0], 'the thread now runs on CPU 0 only');
  t.equal(setThreadAffinity(original!), true, 'undone');
  t.same(threadAffinity(), original, 'all the CPUs are back');
  const allOfNodeZero = numaTopology()[0]!.cpus;
  t.equal(setThreadAffinity(allOfNodeZero), true, "node 0's CPUs, as a pool worker pins itself");
  t.equal(setThreadAffinity(original!), true);
});

t.test('a worker pins only itself', { skip: skipWithoutAddon }, async (t) => {
  const before = threadAffinity();
  const result = await pinInWorker(0);
  t.equal(result.applied, true, 'the worker pinned itself');
  t.same(result.inside, [0], 'the worker runs on CPU 0 only');
  t.same(threadAffinity(), before, "the main thread's CPUs did not change");
});

t.test('CPUs the process may not use are refused', { skip: skipWithoutAddon }, async (t) => {
  const before = threadAffinity();
  t.equal(setThreadAffinity([65535]), false, 'a CPU this machine does not have');
  t.same(threadAffinity(), before, 'nothing changed');
});

t.test('bad arguments', async (t) => {
  t.throws(() => setThreadAffinity([]), RangeError, 'no CPUs');
  t.throws(() => setThreadAffinity([-1]), RangeError, 'a negative id');
  t.throws(() => setThreadAffinity([1.5]), RangeError, 'a fractional id');
  t.throws(() => setThreadAffinity([65536]), RangeError, 'an id past the limit');
  t.throws(() => setThreadAffinity(['0'] as never), TypeError, 'an id as a string');
  t.throws(() => setThreadAffinity(0 as never), TypeError, 'not an array');
});
