// Proves the work pool (src/workers/pool.ts) gives what the jobs give inline, and behaves as a
// pool must: put preparation (checksum check, fp32/bf16 -> fp16, stored checksum) and chunk
// checksums are byte-identical between 2 real worker threads, threads 0 (inline) and the codec's
// reference functions, over many sizes (odd ones and multi-MiB ones) of seeded random data; a
// buffer the caller owns is moved to the worker (its view is detached afterwards) while a view
// into a larger buffer is copied and left intact; no thread starts before the first offloaded
// job; a job's exception rejects its promise; a worker that cannot load its module is reported
// and its jobs run inline; a NUMA node that is not there leaves the workers unpinned, said so;
// closing the pool ends its threads (tap would time out on a leaked handle); a full queue sends
// jobs inline. The TypeScript workers load through the loader tap runs this file with, and in a
// child process that registers tsx at run time the way bin/kvc.js does (workers do not inherit
// such a loader: the pool must add it). Run it with KVC_NATIVE=0 too: the same results must come
// from the TypeScript fallbacks.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { bf16ToFp16, crc32c, fp32ToFp16 } from '../../src/codec/index.js';
import { LIMITS } from '../../src/limits.js';
import { nativeStatus } from '../../src/native/index.js';
import { NATIVE_CHECKSUM_OFFLOAD_BYTES_MIN, WorkPool, defaultWorkerThreads, runJob, type PreparePutJob, type StoreConversion } from '../../src/workers/index.js';
import { childEnv } from '../cli/helpers.js';
import { prng } from '../codec/prng.js';
import { eventually } from '../wait.js';

/** Sizes in elements: tails that are not multiples of SIMD lanes, and pages over the default offload size. */
const ELEMENT_COUNTS = [1, 7, 8, 15, 16, 33, 1000, 4097, 65_537, 300_001, 600_000];

/** Random 32-bit words, with special values mixed in: ±0, ±Inf, NaNs, fp16 overflow and subnormal ranges. */
function randomWords(count: number, seed: number): Uint32Array {
  const next = prng(seed);
  const specials = [0x0000_0000, 0x8000_0000, 0x7f80_0000, 0xff80_0000, 0x7fc0_0001, 0x7f80_0001, 0x477f_f000, 0x3300_0000, 0x3300_0001, 0x387f_ffff];
  const words = new Uint32Array(count);
  for (let i = 0; i < count; i++) words[i] = next() % 16 === 0 ? specials[next() % specials.length]! : next();
  return words;
}

function reference(data: Uint8Array, conversion: StoreConversion | undefined): Uint8Array {
  if (conversion === undefined) return data;
  const out = conversion === 'fp32>fp16' ? fp32ToFp16(new Float32Array(data.slice().buffer)) : bf16ToFp16(new Uint16Array(data.slice().buffer));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function cases(): { name: string; data: Uint8Array; conversion: StoreConversion | undefined }[] {
  const out: { name: string; data: Uint8Array; conversion: StoreConversion | undefined }[] = [];
  ELEMENT_COUNTS.forEach((count, i) => {
    const words = randomWords(count, 1000 + i);
    out.push({ name: `fp32 x${count} -> fp16`, data: new Uint8Array(words.buffer), conversion: 'fp32>fp16' });
    out.push({ name: `bf16 x${count * 2} -> fp16`, data: new Uint8Array(words.buffer), conversion: 'bf16>fp16' });
    out.push({ name: `u8 x${count * 4} as is`, data: new Uint8Array(words.buffer), conversion: undefined });
  });
  return out;
}

function job(data: Uint8Array, conversion: StoreConversion | undefined, expectedCrc32c = crc32c(data)): Omit<PreparePutJob, 'kind'> {
  return { data, expectedCrc32c, ...(conversion !== undefined ? { conversion } : {}) };
}

t.test('threads and inline give the reference bytes and checksums', async (t) => {
  const logs: string[] = [];
  // Every job goes to a worker (offloadBytesMin 1) so that the small sizes are compared there too.
  const pool = new WorkPool({ threads: 2, offloadBytesMin: 1, checksumOffloadBytesMin: 1, log: (line) => logs.push(line) });
  const inline = new WorkPool({ threads: 0 });
  t.teardown(() => pool.close());
  t.equal(pool.status().running, 0, 'no thread before the first job');
  for (const c of cases()) {
    const expected = reference(c.data, c.conversion);
    const [offloaded, local] = await Promise.all([pool.preparePut(job(c.data.slice(), c.conversion), true), inline.preparePut(job(c.data.slice(), c.conversion), true)]);
    if (!offloaded.ok || !local.ok) {
      t.fail(`${c.name}: a correct checksum was refused`);
      continue;
    }
    t.ok(Buffer.from(offloaded.data).equals(Buffer.from(expected)), `${c.name}: worker bytes are the codec's`);
    t.ok(Buffer.from(local.data).equals(Buffer.from(expected)), `${c.name}: inline bytes are the codec's`);
    t.equal(offloaded.crc32c, crc32c(expected), `${c.name}: worker crc32c of the stored bytes`);
    t.equal(local.crc32c, offloaded.crc32c, `${c.name}: inline crc32c`);
    const chunk = await pool.checksum(c.data.slice(), true);
    t.equal(chunk.crc32c, crc32c(c.data), `${c.name}: chunk checksum`);
    t.ok(Buffer.from(chunk.data).equals(Buffer.from(c.data)), `${c.name}: the chunk's bytes come back whole`);
  }
  const status = pool.status();
  t.ok(status.running >= 1 && status.running <= 2, `1 or 2 threads ran the jobs (${status.running})`);
  t.equal(status.inlineJobs, 0, 'nothing ran inline');
  t.equal(inline.status().offloadedJobs, 0, 'threads 0 offloads nothing');
  await eventually(() => pool.status().workersPinned + pool.status().workersUnpinned > 0, 5_000, 'a worker to report its pinning');
  t.ok(logs.some((line) => /work pool: worker thread \d+/.test(line)), 'the pinning outcome is logged');
});

// One thread shared by the next tests: starting a worker that compiles TypeScript takes about a second.
const shared = new WorkPool({ threads: 1, offloadBytesMin: 1024, checksumOffloadBytesMin: 1024 });
t.teardown(() => shared.close());

t.test('a wrong checksum is a result, computed where the job ran', async (t) => {
  const pool = shared;
  const data = new Uint8Array(randomWords(4096, 7).buffer);
  const actual = crc32c(data);
  for (const conversion of ['fp32>fp16', undefined] as const) {
    t.same(await pool.preparePut(job(data.slice(), conversion, actual ^ 1), true), { ok: false, actualCrc32c: actual }, `worker, ${conversion ?? 'no conversion'}`);
    t.same(runJob({ kind: 'prepare-put', ...job(data, conversion, actual ^ 1) }), { ok: false, actualCrc32c: actual }, `inline, ${conversion ?? 'no conversion'}`);
  }
});

t.test('owned buffers move to the worker; views are copied and left intact', async (t) => {
  const pool = shared;
  const { inlineJobs, offloadedJobs } = pool.status();
  const owned = new Uint8Array(randomWords(8192, 3).buffer);
  const expected = reference(owned, 'fp32>fp16');
  const moved = await pool.preparePut(job(owned, 'fp32>fp16'), true);
  t.equal(owned.byteLength, 0, 'an owned buffer is detached: it went to the worker, not a copy');
  t.ok(moved.ok && Buffer.from(moved.data).equals(Buffer.from(expected)));
  const slab = new Uint8Array(randomWords(16_384, 4).buffer);
  const before = Buffer.from(slab);
  const view = slab.subarray(4, 4 + 32_768);
  const copied = await pool.preparePut(job(view, undefined), true);
  t.equal(view.byteLength, 32_768, 'a view into a larger buffer is never moved, even when called owned');
  t.ok(Buffer.from(slab).equals(before), 'and its buffer is unchanged');
  t.ok(copied.ok && Buffer.from(copied.data).equals(Buffer.from(view)), 'the worker saw exactly the view');
  const notOwned = new Uint8Array(randomWords(8192, 5).buffer);
  await pool.preparePut(job(notOwned, 'bf16>fp16'), false);
  t.equal(notOwned.byteLength, 32_768, 'a whole buffer the caller does not own is copied');
  const small = new Uint8Array(100);
  await pool.preparePut(job(small, undefined), true);
  t.equal(small.byteLength, 100, 'a job below offloadBytesMin runs inline and keeps its buffer');
  t.equal(pool.status().inlineJobs - inlineJobs, 1);
  t.equal(pool.status().offloadedJobs - offloadedJobs, 3);
  const unaligned = new Uint8Array(new ArrayBuffer(4097 * 4 + 1), 1, 4097 * 4);
  unaligned.set(new Uint8Array(randomWords(4097, 6).buffer));
  t.same(runJob({ kind: 'prepare-put', ...job(unaligned, 'fp32>fp16') }), runJob({ kind: 'prepare-put', ...job(unaligned.slice(), 'fp32>fp16') }), 'an unaligned view converts like an aligned copy');
});

t.test('a job that throws in a worker rejects with its error', async (t) => {
  const pool = shared;
  const odd = new Uint8Array(4099);
  await t.rejects(pool.preparePut(job(odd, 'fp32>fp16'), true), { message: /not a whole number of 4-byte elements/ }, 'from the worker');
  t.throws(() => runJob({ kind: 'prepare-put', ...job(new Uint8Array(3), 'fp32>fp16') }), RangeError, 'inline, the same error');
  t.throws(() => runJob({ kind: 'nonsense' } as never), { message: /unknown pool job/ });
  const after = await pool.preparePut(job(new Uint8Array(4096), 'fp32>fp16'), true);
  t.ok(after.ok, 'the pool goes on after a failed job');
  t.equal(pool.status().failed, undefined);
});

t.test('a full queue runs jobs inline', async (t) => {
  const pool = shared;
  const before = pool.status();
  const jobs = Array.from({ length: 400 }, (_, i) => new Uint8Array(randomWords(512, 100 + i).buffer));
  const results = await Promise.all(jobs.map((data) => pool.preparePut(job(data.slice(), 'bf16>fp16'), true)));
  results.forEach((result, i) => {
    if (!result.ok || !Buffer.from(result.data).equals(Buffer.from(reference(jobs[i]!, 'bf16>fp16')))) t.fail(`job ${i}`);
  });
  const after = pool.status();
  t.ok(after.inlineJobs - before.inlineJobs >= 400 - 256 - 1, `past 256 queued jobs the rest ran inline (${after.inlineJobs - before.inlineJobs})`);
  t.ok(after.offloadedJobs > before.offloadedJobs, 'the others in the worker');
});

t.test('a worker that cannot start is reported and its jobs run inline', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-pool-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const broken = path.join(dir, 'broken-worker.mjs');
  await writeFile(broken, "throw new Error('this worker cannot load');\n");
  const logs: string[] = [];
  const pool = new WorkPool({ threads: 2, offloadBytesMin: 1, workerUrl: new URL(`file://${broken}`), log: (line) => logs.push(line) });
  t.teardown(() => pool.close());
  const data = new Uint8Array(randomWords(1024, 9).buffer);
  const expected = reference(data, 'fp32>fp16');
  const results = await Promise.all([pool.preparePut(job(data.slice(), 'fp32>fp16'), true), pool.preparePut(job(data.slice(), 'fp32>fp16'), true)]);
  for (const result of results) t.ok(result.ok && Buffer.from(result.data).equals(Buffer.from(expected)), 'a queued job ran inline instead');
  t.match(pool.status().failed, /this worker cannot load/, 'status says why');
  t.ok(logs.some((line) => line.includes('running every job inline')), 'logged');
  const queuedBad = [pool.preparePut(job(new Uint8Array(4099), 'fp32>fp16'), true)];
  t.equal((await Promise.allSettled(queuedBad))[0]!.status, 'rejected', 'a job that throws inline after the failure still rejects');
  const later = await pool.preparePut(job(data.slice(), undefined), true);
  t.ok(later.ok, 'later jobs run inline');
  t.equal(pool.status().running, 0, 'no thread is left');
});

t.test('NUMA: the CPUs of the asked node, none for a node that is not there', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-pool-sysfs-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const [id, cpus] of [[0, '0'], [1, '1']] as const) {
    await mkdir(path.join(root, `node${id}`));
    await writeFile(path.join(root, `node${id}`, 'cpulist'), `${cpus}\n`);
    await writeFile(path.join(root, `node${id}`, 'meminfo'), `Node ${id} MemTotal:       1024 kB\n`);
  }
  const second = new WorkPool({ threads: 1, numaNode: 1, sysfsRoot: root, offloadBytesMin: 1, checksumOffloadBytesMin: 1 });
  t.teardown(() => second.close());
  t.same(second.status().cpus, [1], 'node 1 of a fake two-node tree');
  t.equal(second.status().numaNode, 1);
  t.ok((await second.preparePut(job(new Uint8Array(64), undefined), true)).ok);
  await eventually(() => second.status().pinReason !== undefined, 5_000, 'the worker to report');
  const status = second.status();
  t.equal(status.workersPinned + status.workersUnpinned, 1);
  if (status.workersPinned === 1) t.match(status.pinReason, /pinned to CPUs 1/);
  else t.match(status.pinReason, /not available|failed/, `unpinned, and why: ${status.pinReason}`);
  const logs: string[] = [];
  const missing = new WorkPool({ threads: 1, numaNode: 7, sysfsRoot: root, log: (line) => logs.push(line) });
  t.same(missing.status().cpus, [], 'an unknown node: no CPUs');
  t.match(logs.join('\n'), /NUMA node 7 not found/);
  await missing.close();
  t.same(new WorkPool({ threads: 0, numaNode: 7, sysfsRoot: root }).status().cpus, [], 'threads 0 reads no topology');
  const unreadable = new WorkPool({ threads: 1, sysfsRoot: 42 as unknown as string, log: (line) => logs.push(line) });
  t.same(unreadable.status().cpus, [], 'a topology that cannot be read: no CPUs');
  t.match(logs.join('\n'), /cannot read the NUMA topology/);
});

t.test('default thresholds: small jobs inline; a checksum alone inline below 16 MiB with the addon', async (t) => {
  const pool = new WorkPool({ threads: 1 });
  t.teardown(() => pool.close());
  t.equal(pool.offloadsPreparePut(LIMITS.pool.offloadBytesMin - 4, true), false, 'offloadsPreparePut: a small conversion stays inline');
  t.equal(pool.offloadsPreparePut(LIMITS.pool.offloadBytesMin, true), true, 'a 1 MiB conversion goes to a worker');
  t.equal(pool.offloadsPreparePut(LIMITS.pool.offloadBytesMin, false), !nativeStatus().loaded, 'a 1 MiB checksum alone: inline with the addon');
  t.equal(WorkPool.inline().offloadsPreparePut(64 * LIMITS.pool.offloadBytesMin, true), false, 'a pool without threads never offloads');
  const small = new Uint8Array(LIMITS.pool.offloadBytesMin - 4);
  t.ok((await pool.preparePut(job(small, 'fp32>fp16'), true)).ok);
  t.equal(small.byteLength, LIMITS.pool.offloadBytesMin - 4, 'a conversion below 1 MiB runs inline');
  const chunk = new Uint8Array(LIMITS.pool.offloadBytesMin);
  const result = await pool.checksum(chunk, true);
  t.equal(result.crc32c, crc32c(new Uint8Array(LIMITS.pool.offloadBytesMin)));
  if (nativeStatus().loaded) {
    t.equal(chunk.byteLength, LIMITS.pool.offloadBytesMin, `with the addon a 1 MiB checksum stays inline (below ${NATIVE_CHECKSUM_OFFLOAD_BYTES_MIN})`);
    t.same([pool.status().inlineJobs, pool.status().offloadedJobs], [2, 0]);
  } else {
    t.equal(chunk.byteLength, 0, 'without the addon a 1 MiB checksum goes to a worker');
    t.same([pool.status().inlineJobs, pool.status().offloadedJobs], [1, 1]);
  }
});

t.test('workers load TypeScript in a process that registered tsx at run time (bin/kvc.js)', async (t) => {
  const poolUrl = new URL('../../src/workers/pool.ts', import.meta.url).href;
  const script = [
    "import { register } from 'tsx/esm/api';",
    'register();',
    `const { WorkPool } = await import(${JSON.stringify(poolUrl)});`,
    'const pool = new WorkPool({ threads: 1, offloadBytesMin: 1 });',
    'const data = new Uint8Array(new Float32Array([1, 2, 65520, -0]).buffer);',
    'const result = await pool.preparePut({ data, expectedCrc32c: process.argv[1] >>> 0, conversion: "fp32>fp16" }, true);',
    'console.log(JSON.stringify({ ok: result.ok, bits: [...new Uint16Array(result.data.buffer)], offloaded: pool.status().offloadedJobs, moved: data.byteLength === 0 }));',
    'await pool.close();',
  ].join('\n');
  const expectedCrc32c = crc32c(new Uint8Array(new Float32Array([1, 2, 65520, -0]).buffer));
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, String(expectedCrc32c)], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], cwd: process.cwd() });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  t.equal(code, 0, `the child exits cleanly ${stderr}`);
  t.same(JSON.parse(stdout), { ok: true, bits: [0x3c00, 0x4000, 0x7c00, 0x8000], offloaded: 1, moved: true }, 'the job ran in a worker thread, converted');
});

t.test('options and close', async (t) => {
  t.throws(() => new WorkPool({ threads: -1 }), RangeError);
  t.throws(() => new WorkPool({ threads: 1.5 }), RangeError);
  t.throws(() => new WorkPool({ threads: 65 }), RangeError);
  t.equal(defaultWorkerThreads(), Math.max(1, Math.min(2, os.availableParallelism() - 1)), 'default: cores - 1, from 1 to 2');
  t.equal(WorkPool.inline().threads, 0);
  const pool = new WorkPool({ threads: 1, offloadBytesMin: 1 });
  const running = pool.preparePut(job(new Uint8Array(randomWords(1 << 20, 11).buffer), 'fp32>fp16'), true);
  const rejected = t.rejects(running, { message: /closed/ }, 'a job in a worker when the pool closes is rejected');
  await pool.close();
  await rejected;
  t.equal(pool.status().running, 0, 'no thread after close');
  const after = await pool.preparePut(job(new Uint8Array(16), undefined), true);
  t.ok(after.ok, 'a closed pool still answers, inline');
  t.equal(pool.offloadsPreparePut(1 << 20, true), false, 'and says so');
  await pool.close();
});
