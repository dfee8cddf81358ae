// The `native` benchmark: the addon's fp32 → fp16 conversion and crc32c against the TypeScript
// reference, with `Buffer.copy` of the same bytes as the memory-bandwidth reference, all in one
// run on 64 MiB buffers (far larger than the caches, so they measure memory-bound throughput).
// Also the other conversions, the addon's scalar kernels (what a CPU without F16C/AVX2/SSE4.2
// gets), and the cost per call of small inputs, which sets the thresholds below which src/codec
// stays in TypeScript. GB/s are of input bytes, 1 GB = 10^9 bytes; each figure is the best of
// several repetitions (the machine is shared; the best run is the least disturbed).
//
// With --json the suite's summary, {"fp32ToFp16": {"addonGBps", "typescriptGBps"}, "copyGBps",
// "crc32cGBps"} (crc32c with the addon, or TypeScript without it), is the report's `summary`.
import { crc32cTs, NATIVE_CRC32C_MIN_BYTES } from '../../src/bytes/crc32c.js';
import { bf16ToFp16Ts, fp16ToFp32Ts, fp32ToFp16Ts, NATIVE_CONVERT_MIN_ELEMENTS } from '../../src/bytes/fp16.js';
import { nativeCodec, nativeStatus, setNativeSimdEnabled, setNativeWideSimdEnabled, type NativeCodec } from '../../src/native/index.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

const MIB = 1024 * 1024;
const BUFFER_BYTES = 64 * MIB;
const BYTES_PER_GB = 1e9;
const MILLISECONDS_PER_SECOND = 1000;
const NANOSECONDS_PER_MILLISECOND = 1e6;
/** Repetitions of each fast case (addon, copy) and of each slow one (TypeScript, scalar kernels). */
const FAST_REPETITIONS = 9;
const SLOW_REPETITIONS = 3;
/** Calls per small-input timing, after as many warm-up calls. */
const SMALL_CALLS = 200_000;
const SMALL_CRC_BYTES = [32, 64, 128, 256, 1024];
const SMALL_CONVERT_ELEMENTS = [16, 32, 64, 128, 512];
/** The issue's targets: addon fp32 → fp16 at half the copy's rate or better, crc32c at 5 GB/s or better. */
const TARGET_CONVERT_FRACTION_OF_COPY = 0.5;
const TARGET_CRC32C_GBPS = 5;

interface Row extends Record<string, number | string> {
  case: string;
  implementation: string;
  inputMiB: number;
  bestMs: number;
  GBps: number;
}

/** A type alias, not an interface, so that it fits a Record<string, unknown> field. */
export type NativeSummary = {
  fp32ToFp16: { addonGBps: number | null; typescriptGBps: number };
  copyGBps: number;
  crc32cGBps: number;
};

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function measure(name: string, implementation: string, bytes: number, repetitions: number, run: () => unknown): Row {
  let bestMs = Infinity;
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    run();
    bestMs = Math.min(bestMs, performance.now() - started);
  }
  const GBps = bytes / BYTES_PER_GB / (bestMs / MILLISECONDS_PER_SECOND);
  return { case: name, implementation, inputMiB: bytes / MIB, bestMs: round(bestMs, 2), GBps: round(GBps, 2) };
}

/** Nanoseconds per call of `run`, after a warm-up. */
function perCallNs(run: () => unknown): number {
  for (let i = 0; i < SMALL_CALLS; i++) run();
  const started = performance.now();
  for (let i = 0; i < SMALL_CALLS; i++) run();
  return round(((performance.now() - started) * NANOSECONDS_PER_MILLISECOND) / SMALL_CALLS, 0);
}

/** KV-cache-like fp32 values (magnitudes of a few units), and their bf16 and fp16 forms. */
function inputs(): { fp32: Float32Array; bf16: Uint16Array; fp16: Uint16Array } {
  const fp32 = new Float32Array(BUFFER_BYTES / 4);
  for (let i = 0; i < fp32.length; i++) fp32[i] = Math.sin(i) * 4;
  const bits = new Uint32Array(fp32.buffer);
  const bf16 = new Uint16Array(fp32.length);
  for (let i = 0; i < bits.length; i++) bf16[i] = bits[i] >>> 16;
  return { fp32, bf16, fp16: fp32ToFp16Ts(fp32) };
}

function withSimd<T>(enabled: boolean, body: () => T): T {
  const previous = setNativeSimdEnabled(enabled);
  try {
    return body();
  } finally {
    setNativeSimdEnabled(previous);
  }
}

function withWideSimd<T>(enabled: boolean, body: () => T): T {
  const previous = setNativeWideSimdEnabled(enabled);
  try {
    return body();
  } finally {
    setNativeWideSimdEnabled(previous);
  }
}

function largeCases(codec: NativeCodec | null, progress: (line: string) => void): Row[] {
  const { fp32, bf16, fp16 } = inputs();
  const bytes = new Uint8Array(fp32.buffer);
  const copySource = Buffer.from(fp32.buffer);
  const copyTarget = Buffer.alloc(BUFFER_BYTES);
  const toFp16 = new Uint16Array(fp32.length);
  const toFp32 = new Float32Array(fp16.length);
  const rows: Row[] = [measure('Buffer.copy', 'memory', BUFFER_BYTES, FAST_REPETITIONS, () => copySource.copy(copyTarget))];
  progress('copy done');
  if (codec !== null) {
    rows.push(measure('fp32ToFp16', 'addon', BUFFER_BYTES, FAST_REPETITIONS, () => codec.fp32ToFp16(fp32, toFp16)));
    rows.push(measure('crc32c', 'addon', BUFFER_BYTES, FAST_REPETITIONS, () => codec.crc32c(bytes, 0)));
    withWideSimd(false, () => rows.push(measure('crc32c', 'addon, SSE4.2 kernel (512-bit kernels off)', BUFFER_BYTES, FAST_REPETITIONS, () => codec.crc32c(bytes, 0))));
    // A read's checked copy (src/client/pages.ts): one pass, against a copy and then a checksum of it.
    rows.push(measure('copy + crc32c', 'addon, one pass (copyCrc32c)', BUFFER_BYTES, FAST_REPETITIONS, () => codec.copyCrc32c(bytes, copyTarget, 0, 0)));
    rows.push(measure('copy + crc32c', 'Buffer.copy, then addon crc32c', BUFFER_BYTES, FAST_REPETITIONS, () => {
      copySource.copy(copyTarget);
      return codec.crc32c(copyTarget, 0);
    }));
    rows.push(measure('bf16ToFp16', 'addon', bf16.byteLength, FAST_REPETITIONS, () => codec.bf16ToFp16(bf16, toFp16)));
    rows.push(measure('fp16ToFp32', 'addon', fp16.byteLength, FAST_REPETITIONS, () => codec.fp16ToFp32(fp16, toFp32)));
    withSimd(false, () => {
      rows.push(measure('fp32ToFp16', 'addon, scalar kernel', BUFFER_BYTES, SLOW_REPETITIONS, () => codec.fp32ToFp16(fp32, toFp16)));
      rows.push(measure('crc32c', 'addon, scalar kernel', BUFFER_BYTES, SLOW_REPETITIONS, () => codec.crc32c(bytes, 0)));
    });
    progress('addon done');
  }
  rows.push(measure('fp32ToFp16', 'typescript', BUFFER_BYTES, SLOW_REPETITIONS, () => fp32ToFp16Ts(fp32, toFp16)));
  rows.push(measure('crc32c', 'typescript', BUFFER_BYTES, SLOW_REPETITIONS, () => crc32cTs(bytes, 0)));
  rows.push(measure('bf16ToFp16', 'typescript', bf16.byteLength, SLOW_REPETITIONS, () => bf16ToFp16Ts(bf16, toFp16)));
  rows.push(measure('fp16ToFp32', 'typescript', fp16.byteLength, SLOW_REPETITIONS, () => fp16ToFp32Ts(fp16, toFp32)));
  progress('typescript done');
  return rows;
}

/** Cost per call of small inputs, TypeScript against the addon: where the thresholds come from. */
function smallCases(codec: NativeCodec): Record<string, number | string>[] {
  const rows: Record<string, number | string>[] = [];
  for (const length of SMALL_CRC_BYTES) {
    const data = new Uint8Array(length).fill(7);
    rows.push({ case: 'crc32c', size: `${length} B`, typescriptNs: perCallNs(() => crc32cTs(data, 0)), addonNs: perCallNs(() => codec.crc32c(data, 0)) });
  }
  for (const length of SMALL_CONVERT_ELEMENTS) {
    const src = new Float32Array(length).fill(1.5);
    const dst = new Uint16Array(length);
    rows.push({ case: 'fp32ToFp16', size: `${length} elements`, typescriptNs: perCallNs(() => fp32ToFp16Ts(src, dst)), addonNs: perCallNs(() => codec.fp32ToFp16(src, dst)) });
  }
  return rows;
}

function gbps(rows: Row[], name: string, implementation: string): number | null {
  return rows.find((row) => row.case === name && row.implementation === implementation)?.GBps ?? null;
}

function summarize(rows: Row[]): NativeSummary {
  return {
    fp32ToFp16: { addonGBps: gbps(rows, 'fp32ToFp16', 'addon'), typescriptGBps: gbps(rows, 'fp32ToFp16', 'typescript')! },
    copyGBps: gbps(rows, 'Buffer.copy', 'memory')!,
    crc32cGBps: gbps(rows, 'crc32c', 'addon') ?? gbps(rows, 'crc32c', 'typescript')!,
  };
}

function tables(rows: Row[], small: Record<string, number | string>[]): string {
  const large = [
    '| case | implementation | input MiB | best ms | GB/s |',
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.case} | ${r.implementation} | ${r.inputMiB} | ${r.bestMs} | ${r.GBps} |`),
  ];
  if (small.length === 0) return large.join('\n');
  const perCall = [
    '| small input | size | TypeScript ns/call | addon ns/call |',
    '|---|---:|---:|---:|',
    ...small.map((r) => `| ${r.case} | ${r.size} | ${r.typescriptNs} | ${r.addonNs} |`),
  ];
  return `${large.join('\n')}\n\n${perCall.join('\n')}`;
}

function notes(summary: NativeSummary): string[] {
  const status = nativeStatus();
  const lines = [
    status.loaded
      ? `Addon loaded; CPU features: ${Object.entries(status.features).map(([name, on]) => `${name} ${on ? 'yes' : 'no'}`).join(', ')}.`
      : `Addon not loaded (${status.reason}): only TypeScript and the copy were measured.`,
    `64 MiB inputs (bf16/fp16: 32 MiB), GB/s of input bytes; best of ${FAST_REPETITIONS} (addon, copy) or ${SLOW_REPETITIONS} (TypeScript, scalar) runs.`,
    `src/bytes uses the addon from ${NATIVE_CRC32C_MIN_BYTES} bytes (crc32c) and ${NATIVE_CONVERT_MIN_ELEMENTS} elements (conversions), where the per-call table shows it winning.`,
  ];
  const { addonGBps } = summary.fp32ToFp16;
  if (addonGBps !== null) {
    const fraction = addonGBps / summary.copyGBps;
    lines.push(
      `Targets: fp32ToFp16 at ${round(fraction * 100, 0)}% of Buffer.copy (target >= ${TARGET_CONVERT_FRACTION_OF_COPY * 100}%): ${fraction >= TARGET_CONVERT_FRACTION_OF_COPY ? 'met' : 'MISSED'}; ` +
        `crc32c ${summary.crc32cGBps} GB/s (target >= ${TARGET_CRC32C_GBPS}): ${summary.crc32cGBps >= TARGET_CRC32C_GBPS ? 'met' : 'MISSED'}.`,
    );
  }
  return lines;
}

export const nativeSuite: BenchSuite = {
  name: 'native',
  description: 'native addon vs TypeScript: fp32→fp16 and crc32c GB/s beside Buffer.copy, 64 MiB buffers',
  run(options: BenchOptions): SuiteReport & { summary: NativeSummary } {
    const codec = nativeCodec();
    const rows = largeCases(codec, options.progress);
    const small = codec === null ? [] : smallCases(codec);
    const summary = summarize(rows);
    return { suite: 'native', results: [...rows, ...small], table: tables(rows, small), notes: notes(summary), summary };
  },
};
