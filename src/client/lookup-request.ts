// The client's LookupRequest encoder for a batch of prompts (lookup-batcher.ts), written by hand.
//
// Why: a round of 100 lookups issued together travels as two calls of 50 prompts of 16 keys, and
// the static protobufjs code first copied the request into message objects (fromObject), then
// queued one writer operation per field, key by key, before copying them into the buffer: ~2 µs
// per prompt and most of the client's garbage per lookup. This writes the batch straight into one
// buffer of the message's size (~0.4–0.9 µs per prompt of 16 keys against protobufjs's 1.5–2.6 in
// the same runs), with no request object in between.
//
// The bytes are protobufjs's for the same request (cache.proto field order; an empty namespace is
// written, as protobufjs writes a present string; linearizable and lease_ms only when set, as the
// batcher's request leaves them out otherwise); test/client/lookup-request.test.ts checks them
// against the static code and the members' decoder.
import { LOOKUP_TAGS, delimitedBytes, varintBytes, writeVarint } from '../proto/index.js';
import type { LookupBatch } from './lookup-batcher.js';

const {
  namespace: TAG_NAMESPACE,
  keys: TAG_KEYS,
  linearizable: TAG_LINEARIZABLE,
  leaseMs: TAG_LEASE_MS,
  morePrompts: TAG_MORE_PROMPTS,
  keyListKeys: TAG_KEY_LIST_KEYS,
} = LOOKUP_TAGS;

/** Bytes of one prompt's keys, each a length-delimited field. */
function keysBytes(keys: Uint8Array[]): number {
  let bytes = 0;
  for (const key of keys) bytes += delimitedBytes(key.length);
  return bytes;
}

function writeKeys(out: Buffer, at: number, tag: number, keys: Uint8Array[]): number {
  let position = at;
  for (const key of keys) {
    const length = key.length;
    out[position++] = tag;
    position = writeVarint(out, position, length);
    // `set` measured ~2x faster than a byte loop here, even for 16-byte keys.
    out.set(key, position);
    position += length;
  }
  return position;
}

/**
 * LookupRequest for `batch`: its first prompt in `keys`, the others in `more_prompts` (one
 * KeyList each), the namespace, and linearizable and lease_ms when set.
 */
export function encodeLookupBatch(batch: LookupBatch): Buffer {
  const { prompts } = batch;
  const nsBytes = Buffer.byteLength(batch.ns);
  let size = delimitedBytes(nsBytes);
  const first = prompts[0] ?? [];
  size += keysBytes(first);
  if (batch.linearizable) size += 2;
  if (batch.leaseMs > 0) size += 1 + varintBytes(batch.leaseMs);
  const listBytes = new Array<number>(prompts.length);
  for (let p = 1; p < prompts.length; p++) {
    const bytes = keysBytes(prompts[p]!);
    listBytes[p] = bytes;
    size += delimitedBytes(bytes);
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = TAG_NAMESPACE;
  at = writeVarint(out, at, nsBytes);
  at += out.write(batch.ns, at, nsBytes, 'utf8');
  at = writeKeys(out, at, TAG_KEYS, first);
  if (batch.linearizable) {
    out[at++] = TAG_LINEARIZABLE;
    out[at++] = 1;
  }
  if (batch.leaseMs > 0) {
    out[at++] = TAG_LEASE_MS;
    at = writeVarint(out, at, batch.leaseMs);
  }
  for (let p = 1; p < prompts.length; p++) {
    out[at++] = TAG_MORE_PROMPTS;
    at = writeVarint(out, at, listBytes[p]!);
    at = writeKeys(out, at, TAG_KEY_LIST_KEYS, prompts[p]!);
  }
  return out;
}
