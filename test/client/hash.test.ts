// Proves that hashBlocks produces the documented keys and only those: golden vectors pin the exact
// bytes (read from hash-vectors.json, which the Python client's tests read too, and which the
// Python reference in docs/CLIENT.md reproduces, so any language can check itself against them);
// a from-the-spec re-derivation in this file agrees on random inputs; a separate Node process
// computes the same keys; namespace, salt, extra and block size each
// change every key; the chain property holds (a shared prefix of blocks shares its keys, and a
// change in block i changes keys i.. but not the ones before); partial blocks get no key; inputs
// that cannot be encoded are refused.

import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { hashBlocks, BLOCK_KEY_BYTES, type HashBlocksOptions } from '../../src/client/index.js';
import { childEnv } from '../cli/helpers.js';

const hex = (keys: Uint8Array[]): string[] => keys.map((k) => Buffer.from(k).toString('hex'));
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

interface VectorFile {
  vectors: { name: string; tokens: number[]; blockTokens: number; namespace: string; salt?: { utf8: string } | { hex: string }; extra?: string; keys: string[] }[];
}

/**
 * The golden vectors, shared with the Python client's tests (python/tests/test_hash.py) through one
 * file, so both languages are held to the same bytes.
 */
const VECTOR_FILE = JSON.parse(readFileSync(new URL('./hash-vectors.json', import.meta.url), 'utf8')) as VectorFile;
const GOLDEN: { name: string; tokens: number[]; options: HashBlocksOptions; keys: string[] }[] = VECTOR_FILE.vectors.map((v) => {
  const options: HashBlocksOptions = { blockTokens: v.blockTokens, namespace: v.namespace };
  if (v.salt !== undefined) options.salt = 'utf8' in v.salt ? v.salt.utf8 : new Uint8Array(Buffer.from(v.salt.hex, 'hex'));
  if (v.extra !== undefined) options.extra = new Uint8Array(Buffer.from(v.extra, 'hex'));
  return { name: v.name, tokens: v.tokens, options, keys: v.keys };
});

/** The layout of docs/CLIENT.md written out naively, independent of src/client/hash.ts. */
function referenceKeys(tokens: number[], o: HashBlocksOptions): string[] {
  const u32 = (x: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(x);
    return b;
  };
  const sha16 = (parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest().subarray(0, 16);
  const ns = Buffer.from(o.namespace, 'utf8');
  const salt = o.salt === undefined ? Buffer.alloc(0) : Buffer.from(typeof o.salt === 'string' ? Buffer.from(o.salt) : o.salt);
  const extra = Buffer.from(o.extra ?? new Uint8Array(0));
  let previous = sha16([Buffer.from('kvc-block-v1'), u32(o.blockTokens), u32(ns.length), ns, u32(salt.length), salt]);
  const keys: string[] = [];
  for (let i = 0; i + o.blockTokens <= tokens.length; i += o.blockTokens) {
    previous = sha16([previous, ...tokens.slice(i, i + o.blockTokens).map(u32), u32(extra.length), extra]);
    keys.push(previous.toString('hex'));
  }
  return keys;
}

t.test('golden vectors', async (t) => {
  t.equal(GOLDEN.length, 4, 'the shared vector file holds the four documented vectors');
  for (const vector of GOLDEN) {
    t.same(hex(hashBlocks(vector.tokens, vector.options)), vector.keys, vector.name);
    t.same(referenceKeys(vector.tokens, vector.options), vector.keys, `${vector.name}: the written-out layout agrees`);
  }
});

t.test('agrees with the written-out layout on random inputs, whatever holds the tokens', async (t) => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let round = 0; round < 50; round++) {
    const tokens = range(next() % 200).map(() => next());
    const options: HashBlocksOptions = { blockTokens: 1 + (next() % 20), namespace: `ns-${next() % 7}`, salt: String(next() % 3) };
    const expected = referenceKeys(tokens, options);
    t.same(hex(hashBlocks(tokens, options)), expected);
    t.same(hex(hashBlocks(Uint32Array.from(tokens), options)), expected, 'a Uint32Array gives the same keys');
  }
});

t.test('another process computes the same keys', async (t) => {
  const moduleUrl = new URL('../../src/client/index.ts', import.meta.url).href;
  const script = `
    const { hashBlocks } = await import(${JSON.stringify(moduleUrl)});
    const keys = hashBlocks(Array.from({ length: 32 }, (_, i) => i), { blockTokens: 16, namespace: 'llama-3-8b' });
    process.stdout.write(JSON.stringify(keys.map((k) => Buffer.from(k).toString('hex'))));`;
  const cwd = fileURLToPath(new URL('../..', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd,
    timeout: 30_000,
    env: childEnv(),
  });
  t.same(JSON.parse(stdout), GOLDEN[0]!.keys, 'a child process reproduces the golden keys');
});

t.test('namespace, salt, extra and block size separate every key', async (t) => {
  const tokens = range(64);
  const base: HashBlocksOptions = { blockTokens: 16, namespace: 'model-a', salt: 'tenant-1' };
  const variants: HashBlocksOptions[] = [
    { ...base, namespace: 'model-b' },
    { ...base, salt: 'tenant-2' },
    { ...base, salt: undefined },
    { ...base, extra: new Uint8Array([1]) },
    { ...base, blockTokens: 8 },
    // Length prefixes: moving a byte between namespace and salt must not give the same seed.
    { ...base, namespace: 'model-at', salt: 'enant-1' },
  ];
  const baseKeys = new Set(hex(hashBlocks(tokens, base)));
  for (const variant of variants) {
    const keys = hex(hashBlocks(tokens, variant));
    t.ok(keys.every((k) => !baseKeys.has(k)), `no key shared with ${JSON.stringify({ ...variant, extra: undefined })}`);
  }
  t.same(hex(hashBlocks(tokens, { ...base, salt: 'tenant-1' })), [...baseKeys], 'a string salt equals its UTF-8 bytes');
  t.same(hex(hashBlocks(tokens, { ...base, salt: Buffer.from('tenant-1') })), [...baseKeys]);
});

t.test('keys are chained: a key names the whole prefix up to its block', async (t) => {
  const o: HashBlocksOptions = { blockTokens: 4, namespace: 'chain' };
  const a = range(20);
  const b = [...a];
  b[9] = 999; // inside block 2
  const keysA = hex(hashBlocks(a, o));
  const keysB = hex(hashBlocks(b, o));
  t.equal(keysA.length, 5);
  t.same(keysB.slice(0, 2), keysA.slice(0, 2), 'blocks before the change keep their keys');
  for (let i = 2; i < 5; i++) t.not(keysB[i], keysA[i], `key ${i} changes with block 2`);
  // The same block contents at a different position give a different key.
  const repeated = hex(hashBlocks([7, 7, 7, 7, 7, 7, 7, 7], o));
  t.not(repeated[0], repeated[1], 'equal blocks at different positions have different keys');
  t.same(hex(hashBlocks(a.slice(0, 12), o)), keysA.slice(0, 3), 'a shorter prompt yields a prefix of the keys');
});

t.test('only full blocks get keys', async (t) => {
  const o: HashBlocksOptions = { blockTokens: 16, namespace: 'p' };
  t.equal(hashBlocks(range(15), o).length, 0, 'fewer tokens than a block: no key');
  t.equal(hashBlocks([], o).length, 0);
  t.equal(hashBlocks(range(16), o).length, 1);
  t.same(hex(hashBlocks(range(47), o)), hex(hashBlocks(range(32), o)), 'a trailing partial block is ignored');
  t.ok(hashBlocks(range(32), o).every((k) => k instanceof Uint8Array && k.byteLength === BLOCK_KEY_BYTES), '16-byte keys');
});

t.test('refuses what it cannot encode', async (t) => {
  const o: HashBlocksOptions = { blockTokens: 2, namespace: 'p' };
  t.throws(() => hashBlocks([1, -1], o), RangeError, 'negative token id');
  t.throws(() => hashBlocks([1, 2 ** 32], o), RangeError, 'token id over u32');
  t.throws(() => hashBlocks([1, 1.5], o), RangeError, 'fractional token id');
  t.throws(() => hashBlocks([1, Number.NaN], o), RangeError, 'NaN token id');
  t.throws(() => hashBlocks([1, 2], { ...o, blockTokens: 0 }), RangeError, 'empty blocks');
  t.throws(() => hashBlocks([1, 2], { ...o, blockTokens: 2.5 }), RangeError, 'fractional block size');
  t.throws(() => hashBlocks([1, 2], { ...o, namespace: undefined as unknown as string }), TypeError, 'missing namespace');
  t.doesNotThrow(() => hashBlocks([1, 2, 3, -1], { ...o, blockTokens: 3 }), 'a bad id in the ignored partial block is not read');
});

t.test('hashes a 128k-token prompt quickly', async (t) => {
  const started = performance.now();
  const keys = hashBlocks(Uint32Array.from(range(131_072)), { blockTokens: 16, namespace: 'big', salt: 's' });
  const elapsedMs = performance.now() - started;
  t.equal(keys.length, 8192);
  t.ok(elapsedMs < 2_000, `8192 keys in ${elapsedMs.toFixed(1)} ms`);
});
