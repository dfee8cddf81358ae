// Chained block hashing: how an inference worker turns a prompt's token ids into the page keys
// of its KV-cache prefix. Key i names the whole prefix up to and including block i (not block i
// alone), so two prompts share key i exactly when they share their first (i + 1) blocks, and a
// Lookup of the chain answers "how long is the cached prefix" in one call.
//
// Exact byte layout (docs/CLIENT.md repeats it so other languages can reproduce it):
//
//   u32le(x)  = x as 4 bytes, little-endian
//   utf8(s)   = the UTF-8 bytes of s
//   SHA16(b)  = the first 16 bytes of SHA-256(b)
//
//   seed   = SHA16( "kvc-block-v1"                       12 ASCII bytes, the domain tag
//                   ‖ u32le(blockTokens)
//                   ‖ u32le(len(utf8(namespace))) ‖ utf8(namespace)
//                   ‖ u32le(len(salt)) ‖ salt )          salt: utf8 when a string; empty when absent
//   key[0] = SHA16( seed     ‖ u32le(t[0])  ‖ … ‖ u32le(t[B-1])    ‖ u32le(len(extra)) ‖ extra )
//   key[i] = SHA16( key[i-1] ‖ u32le(t[iB]) ‖ … ‖ u32le(t[iB+B-1]) ‖ u32le(len(extra)) ‖ extra )
//
// where B = blockTokens, t = the token ids and extra is empty when absent. Only full blocks get a
// key: a trailing partial block is not cacheable yet (its page is not complete).
//
// Why these choices:
// - The namespace and the salt enter the seed, so every key of a chain depends on them: tenants
//   with different salts cannot probe each other's prefixes by guessing token sequences, and the
//   same prompt in two namespaces (models) never yields the same key.
// - Every variable-length field is length-prefixed, so no two different inputs serialize to the
//   same bytes ("ab" + "c" versus "a" + "bc").
// - SHA-256 from node:crypto needs no dependency and gives the same bytes on every platform,
//   process and language; truncating to 16 bytes (128 bits) keeps keys small on the wire and in
//   the store (keys must be 8 to 64 bytes, LIMITS.page) while accidental collisions stay out of
//   reach (the birthday bound is about 2^64 keys).
// - Token ids are fixed-width u32 little-endian, so the encoding does not depend on how the caller
//   holds them (number[], Uint32Array, Int32Array of non-negative ids).

import { createHash } from 'node:crypto';

/** Length of every key `hashBlocks` returns. */
export const BLOCK_KEY_BYTES = 16;

/** Domain tag that starts the seed; a new layout would get a new tag ("kvc-block-v2"). */
const DOMAIN_TAG = Buffer.from('kvc-block-v1', 'ascii');

/** Largest token id: ids are encoded as u32. */
const TOKEN_ID_MAX = 0xffff_ffff;

/** Largest block: far above any real page (16 to 256 tokens), but it bounds the scratch buffer. */
export const BLOCK_TOKENS_MAX = 1 << 20;

const U32_BYTES = 4;

export interface HashBlocksOptions {
  /** Tokens per block (per page), e.g. 16. */
  blockTokens: number;
  /** Namespace the keys will be stored under (the model or tenant scope). */
  namespace: string;
  /** Secret or per-tenant salt; strings are taken as UTF-8. */
  salt?: string | Uint8Array;
  /** Bytes mixed into every block (e.g. a LoRA adapter id or an image hash). */
  extra?: Uint8Array;
}

/**
 * The chained keys of the full blocks of `tokens`: `floor(tokens.length / blockTokens)` keys of
 * BLOCK_KEY_BYTES bytes each, deterministic in every process (layout in this file's header).
 * Throws RangeError on a block size or token id that cannot be encoded.
 */
export function hashBlocks(tokens: ArrayLike<number>, o: HashBlocksOptions): Uint8Array[] {
  const blockTokens = o.blockTokens;
  if (!Number.isInteger(blockTokens) || blockTokens < 1 || blockTokens > BLOCK_TOKENS_MAX) {
    throw new RangeError(`blockTokens must be an integer in [1, ${BLOCK_TOKENS_MAX}], got ${blockTokens}`);
  }
  const extra = o.extra ?? new Uint8Array(0);
  const blockCount = Math.floor(tokens.length / blockTokens);
  // One scratch buffer holds [previous key | tokens | extra length | extra] and is rewritten per
  // block, so hashing a long prompt allocates only the keys themselves.
  const tokensOffset = BLOCK_KEY_BYTES;
  const extraOffset = tokensOffset + blockTokens * U32_BYTES;
  const scratch = Buffer.alloc(extraOffset + U32_BYTES + extra.byteLength);
  scratch.writeUInt32LE(extra.byteLength, extraOffset);
  scratch.set(extra, extraOffset + U32_BYTES);
  let previous = seedKey(o.namespace, blockTokens, o.salt);
  const keys: Uint8Array[] = [];
  for (let block = 0; block < blockCount; block++) {
    scratch.set(previous, 0);
    const first = block * blockTokens;
    for (let j = 0; j < blockTokens; j++) {
      scratch.writeUInt32LE(tokenId(tokens[first + j], first + j), tokensOffset + j * U32_BYTES);
    }
    previous = sha16(scratch);
    keys.push(previous);
  }
  return keys;
}

/** The seed that stands in for the key before block 0 (see the layout above). */
function seedKey(namespace: string, blockTokens: number, salt: string | Uint8Array | undefined): Uint8Array {
  if (typeof namespace !== 'string') throw new TypeError('namespace must be a string');
  const ns = Buffer.from(namespace, 'utf8');
  const saltBytes = salt === undefined ? new Uint8Array(0) : typeof salt === 'string' ? Buffer.from(salt, 'utf8') : salt;
  return sha16(Buffer.concat([DOMAIN_TAG, u32le(blockTokens), u32le(ns.byteLength), ns, u32le(saltBytes.byteLength), saltBytes]));
}

function tokenId(value: number | undefined, index: number): number {
  if (value === undefined || !Number.isInteger(value) || value < 0 || value > TOKEN_ID_MAX) {
    throw new RangeError(`token ${index} must be an integer in [0, 2^32), got ${String(value)}`);
  }
  return value;
}

function u32le(value: number): Buffer {
  const b = Buffer.alloc(U32_BYTES);
  b.writeUInt32LE(value, 0);
  return b;
}

/** First 16 bytes of SHA-256, copied into a fresh array the caller owns. */
function sha16(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest().subarray(0, BLOCK_KEY_BYTES));
}
