// Shared helpers of the native addon tests: whether the addon is here (its parity tests skip with
// the reason when it is not, for example after a failed build), running a test body once per
// kernel (SIMD and scalar), and a TypeScript child process with a chosen environment.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeCodec, nativeStatus, setNativeSimdEnabled, setNativeWideSimdEnabled, type NativeCodec } from '../../src/native/index.js';
import { childEnv } from '../cli/helpers.js';

const status = nativeStatus();

/** false when the addon is loaded, else the tap `skip` message that says why not. */
export const skipWithoutAddon: false | string = status.loaded ? false : `native addon not loaded: ${status.reason}`;

/** The raw addon codec; only call it from tests that skip with skipWithoutAddon. */
export function addonCodec(): NativeCodec {
  const codec = nativeCodec();
  if (codec === null) throw new Error(`native addon not loaded: ${status.reason}`);
  return codec;
}

/** The kernels a test runs on: the CPU's SIMD ones (when it has them) and the portable scalar ones. */
export const KERNELS = [
  { name: 'simd', simd: true },
  { name: 'scalar', simd: false },
] as const;

/**
 * The crc32c kernels: AVX-512 folding (where the CPU has AVX-512 and VPCLMULQDQ; SSE4.2 again
 * elsewhere), the SSE4.2 crc32 instruction, and the scalar tables.
 */
export const CRC_KERNELS = [
  { name: 'widest SIMD (AVX-512 folding where the CPU has it)', simd: true, wide: true },
  { name: 'SSE4.2', simd: true, wide: false },
  { name: 'scalar', simd: false, wide: false },
] as const;

/**
 * Runs `body` with the addon's SIMD kernels on or off (and its 512-bit ones, with `wide`),
 * restoring the previous settings afterwards.
 */
export function withKernel<T>(simd: boolean, body: () => T, wide = true): T {
  const previous = setNativeSimdEnabled(simd);
  const previousWide = setNativeWideSimdEnabled(wide);
  try {
    return body();
  } finally {
    setNativeWideSimdEnabled(previousWide);
    setNativeSimdEnabled(previous);
  }
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A child that loads TypeScript and the addon finishes in a few seconds; this bounds a hung one. */
const CHILD_TIMEOUT_MS = 60_000;

export interface ChildResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `script` (an ES module, TypeScript allowed) in a fresh `node --import tsx` from the repository root. */
export function runTsChild(script: string, env: NodeJS.ProcessEnv = {}, nodeFlags: string[] = []): ChildResult {
  const result = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
