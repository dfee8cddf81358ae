// Micro-benchmark of src/codec on 32 MiB pages: crc32c, the dtype conversions, and the msgpackr
// codecs of a page-sized Raft entry and of an append message with many small entries. Reports
// the best of a few runs (the machine is shared, the best run is the least disturbed).
// Run: node --import tsx scripts/bench/codec.ts [--json]

import { pathToFileURL } from 'node:url';
import {
  bf16ToFp16,
  crc32c,
  decodeEntry,
  decodeMessage,
  encodeEntry,
  encodeMessage,
  fp16ToFp32,
  fp32ToFp16,
} from '../../src/codec/index.js';
import { EntryType, MessageType, type Entry } from '../../src/raft/index.js';

const MIB = 1024 * 1024;
const PAGE_BYTES = 32 * MIB;
const RUNS = 7;
const SMALL_ENTRIES = 1000;
const SMALL_ENTRY_BYTES = 1024;

export interface CodecBenchResult {
  name: string;
  /** Bytes of input processed per run. */
  bytes: number;
  bestMs: number;
  mibPerSecond: number;
}

function best(name: string, bytes: number, run: () => unknown): CodecBenchResult {
  let bestMs = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run();
    bestMs = Math.min(bestMs, performance.now() - started);
  }
  return { name, bytes, bestMs, mibPerSecond: bytes / MIB / (bestMs / 1000) };
}

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function benchCodec(): CodecBenchResult[] {
  const page = randomBytes(PAGE_BYTES);
  const fp32 = new Float32Array(PAGE_BYTES / 4);
  for (let i = 0; i < fp32.length; i++) fp32[i] = Math.sin(i) * 4; // KV-cache-like magnitudes
  const fp16 = fp32ToFp16(fp32);
  const bf16 = new Uint16Array(new Uint32Array(fp32.buffer).map((bits) => bits >>> 16));
  const toFp16 = new Uint16Array(fp32.length);
  const toFp32 = new Float32Array(fp32.length);
  const entry = encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: page });
  const entries: Entry[] = Array.from({ length: SMALL_ENTRIES }, (_, i) => ({
    term: 2, index: i + 1, type: EntryType.Normal, data: page.subarray(i * SMALL_ENTRY_BYTES, (i + 1) * SMALL_ENTRY_BYTES),
  }));
  const append = { type: MessageType.App, to: 2, from: 1, term: 2, logTerm: 2, index: 0, entries, commit: 0, reject: false, rejectHint: 0 };
  const appendBytes = encodeMessage(append);
  return [
    best('crc32c 32 MiB', PAGE_BYTES, () => crc32c(page)),
    best('fp32ToFp16 32 MiB of fp32', PAGE_BYTES, () => fp32ToFp16(fp32, toFp16)),
    best('bf16ToFp16 16 MiB of bf16', bf16.byteLength, () => bf16ToFp16(bf16, toFp16)),
    best('fp16ToFp32 16 MiB of fp16', fp16.byteLength, () => fp16ToFp32(fp16, toFp32)),
    best('encodeEntry 32 MiB', PAGE_BYTES, () => encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: page })),
    best('decodeEntry 32 MiB (views, no copy)', PAGE_BYTES, () => decodeEntry(entry)),
    best(`encodeMessage ${SMALL_ENTRIES} × 1 KiB entries`, SMALL_ENTRIES * SMALL_ENTRY_BYTES, () => encodeMessage(append)),
    best(`decodeMessage ${SMALL_ENTRIES} × 1 KiB entries`, SMALL_ENTRIES * SMALL_ENTRY_BYTES, () => decodeMessage(appendBytes)),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = benchCodec();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    for (const r of results) {
      console.log(`${r.name.padEnd(40)} ${r.bestMs.toFixed(2).padStart(9)} ms ${r.mibPerSecond.toFixed(0).padStart(7)} MiB/s`);
    }
  }
}
