// A quick measurement, not a test (tap does not run it: the name has no .test): the rate of
// WAL saves of 4 × 2 MiB entries with fsync on, the shape DESIGN §11 measured for a plain file
// append with fdatasync (0.31–0.42 GB/s on the design machine). Also reports what the CPU part
// costs (encoding, which copies each payload once, and crc32c) and the recovery rate of the
// resulting log. Run: node --import tsx test/wal/measure-save.ts [saves] [dir]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { crc32c, encodeEntry } from '../../src/codec/index.js';
import { EntryType } from '../../src/raft/index.js';
import type { Entry } from '../../src/raft/index.js';
import { Wal } from '../../src/wal/index.js';

// A directory run of tap (`npx tap test/wal/`) would pick this file up: skip, it is not a test.
if (process.env.TAP === '1') {
  console.log('1..0 # SKIP a measurement, run it with node --import tsx');
  process.exit(0);
}

const MIB = 1024 * 1024;
const ENTRY_BYTES = 2 * MIB;
const ENTRIES_PER_SAVE = 4;
const saves = Number(process.argv[2] ?? 64);
const parent = process.argv[3] ?? os.tmpdir();

function payload(seed: number): Uint8Array {
  const data = new Uint8Array(ENTRY_BYTES);
  for (let i = 0; i < data.length; i += 4096) data[i] = (seed + i) & 0xff;
  return data;
}

const dir = fs.mkdtempSync(path.join(parent, 'kvc-wal-measure-'));
try {
  const payloads = Array.from({ length: 8 }, (_, k) => payload(k));
  const wal = await Wal.open({ dir, logger: () => {} });
  const latenciesMs: number[] = [];
  let index = 0;
  const started = performance.now();
  for (let s = 0; s < saves; s++) {
    const entries: Entry[] = [];
    for (let k = 0; k < ENTRIES_PER_SAVE; k++) {
      index++;
      entries.push({ index, term: 1, type: EntryType.Normal, data: payloads[index % payloads.length]! });
    }
    const t0 = performance.now();
    await wal.save({ entries, hardState: { term: 1, vote: 1, commit: index } });
    latenciesMs.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  const totalMiB = (saves * ENTRIES_PER_SAVE * ENTRY_BYTES) / MIB;
  await wal.close();
  latenciesMs.sort((a, b) => a - b);
  const p = (q: number): string => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))]!.toFixed(1);
  console.log(`save 4 x 2 MiB, fsync on: ${saves} saves, ${totalMiB} MiB in ${seconds.toFixed(2)} s = ${(totalMiB / seconds).toFixed(0)} MiB/s; latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`);

  const sample = { index: 1, term: 1, type: EntryType.Normal, data: payloads[0]! };
  const rounds = 32;
  let t0 = performance.now();
  for (let r = 0; r < rounds; r++) encodeEntry(sample);
  const encodeMiBps = (rounds * 2) / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let r = 0; r < rounds; r++) crc32c(payloads[0]!);
  const crcMiBps = (rounds * 2) / ((performance.now() - t0) / 1000);
  console.log(`cpu: encodeEntry ${encodeMiBps.toFixed(0)} MiB/s, crc32c ${crcMiBps.toFixed(0)} MiB/s`);

  const plainFile = path.join(dir, 'plain.bin');
  const fd = fs.openSync(plainFile, 'w');
  t0 = performance.now();
  let at = 0;
  for (let s = 0; s < saves; s++) {
    const chunks = Array.from({ length: ENTRIES_PER_SAVE }, (_, k) => payloads[(s + k) % payloads.length]!);
    at += fs.writevSync(fd, chunks, at);
    fs.fdatasyncSync(fd);
  }
  const plainSeconds = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  fs.rmSync(plainFile);
  console.log(`baseline: plain writev + fdatasync of the same bytes: ${(totalMiB / plainSeconds).toFixed(0)} MiB/s`);

  t0 = performance.now();
  const reopened = await Wal.open({ dir, logger: () => {} });
  const recoverySeconds = (performance.now() - t0) / 1000;
  console.log(`recovery of ${totalMiB} MiB (${reopened.stats().segments} segments): ${recoverySeconds.toFixed(2)} s = ${(totalMiB / recoverySeconds).toFixed(0)} MiB/s`);
  await reopened.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
