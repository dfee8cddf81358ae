// Shared helpers for the page store tests: temp directories, pages with a deterministic payload
// and a correct crc32c, and shorthands for store commands.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../src/codec/index.js';
import type { Command, PageMeta } from '../../src/codec/index.js';
import { PageStore } from '../../src/store/index.js';
import type { ApplyItem } from '../../src/store/index.js';

export const MIB = 1024 * 1024;
/** A budget no test reaches unless it means to. */
export const LARGE_BUDGET_BYTES = 1024 * MIB;
/** A fixed creation time: commands carry their times, and replicas must agree on them. */
export const CREATED_AT_MS = 1_700_000_000_000;

export interface TempDirs {
  /** A fresh path (not created) under the test's temp root. */
  path(name: string): string;
  cleanup(): Promise<void>;
}

export async function tempDirs(): Promise<TempDirs> {
  const root = await mkdtemp(join(tmpdir(), 'kvc-store-'));
  return { path: (name) => join(root, name), cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** An 8-byte page key from a number (keys are opaque bytes to the store). */
export function key(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/** `bytes` of payload derived from `seed`, so two pages with different seeds differ. */
export function payload(seed: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function page(ns: string, k: number, seed = k, bytes = 256): { meta: PageMeta; data: Uint8Array } {
  const data = payload(seed, bytes);
  const meta: PageMeta = {
    ns,
    key: key(k),
    dtype: 'fp16',
    shape: [bytes / 2],
    tokens: 16,
    bytes,
    crc32c: crc32c(data),
    createdAtMs: CREATED_AT_MS,
  };
  if (k > 0) meta.parentKey = key(k - 1);
  return { meta, data };
}

export function put(...pages: { meta: PageMeta; data: Uint8Array }[]): Command {
  return { op: 'put', pages };
}

/** Numbers commands as consecutive entries starting at `first`. */
export function items(first: number, ...commands: (Command | null)[]): ApplyItem[] {
  return commands.map((command, i) => ({ index: first + i, command }));
}

export function openStore(dir: string, budgetBytes = LARGE_BUDGET_BYTES): Promise<PageStore> {
  return PageStore.open({ dir, budgetBytes });
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(a, b) === 0;
}
