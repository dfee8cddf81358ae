// Checks of everything a client sends, each failure a KvcError with its registry code. The store
// and the codec check types and intrinsic ranges only; the configurable limits (key length,
// namespace syntax, page size, keys per request) are enforced here, at the edge, before anything
// is proposed (src/codec/command.ts explains why the log itself must not depend on them).
import { crc32c, dtypeBytes, type Dtype } from '../codec/index.js';
import { KvcError } from '../errors.js';
import { isValidKeyBytes, isValidNamespace, LIMITS } from '../limits.js';
import { TTL_MS_MAX } from '../store/index.js';
import type { Dtype__Output as ProtoDtype, PageMeta__Output } from '../proto/index.js';

/** A Dtype as it arrives: a number when a sender used a value the schema does not name (src/proto). */
type ProtoDtypeIn = ProtoDtype | number;

/** PageMeta as a put brings it, its dtypes possibly numbers the schema does not name. */
export type PageMetaIn = Omit<PageMeta__Output, 'dtype' | 'storeDtype'> & { dtype: ProtoDtypeIn; storeDtype: ProtoDtypeIn };

const DTYPE_FROM_PROTO: Readonly<Record<string, Dtype>> = Object.freeze({ FP16: 'fp16', FP32: 'fp32', BF16: 'bf16', U8: 'u8' });
const DTYPE_TO_PROTO: Readonly<Record<Dtype, ProtoDtype>> = Object.freeze({ fp16: 'FP16', fp32: 'FP32', bf16: 'BF16', u8: 'U8' });

export function validateNamespace(ns: string): string {
  if (!isValidNamespace(ns)) {
    const shown = ns.length > LIMITS.namespace.lengthMax ? `${ns.length} characters` : JSON.stringify(ns);
    throw new KvcError('KVC_INVALID_NAMESPACE', {
      detail: `${shown}: expected 1 to ${LIMITS.namespace.lengthMax} characters of [A-Za-z0-9._:/-]`,
    });
  }
  return ns;
}

export function validateKey(key: Uint8Array, what = 'key'): Uint8Array {
  if (!isValidKeyBytes(key.byteLength)) {
    const { keyBytesMin, keyBytesMax } = LIMITS.page;
    throw new KvcError('KVC_INVALID_KEY', { detail: `${what} is ${key.byteLength} bytes, expected ${keyBytesMin} to ${keyBytesMax}` });
  }
  return key;
}

/** The count first (so a huge request fails fast), then every key. */
export function validateKeys(keys: Uint8Array[]): Uint8Array[] {
  validateKeyCount(keys.length);
  // The field name is written only for a bad key: a batched Lookup checks thousands of good ones.
  for (let i = 0; i < keys.length; i++) {
    if (!isValidKeyBytes(keys[i]!.byteLength)) validateKey(keys[i]!, `keys[${i}]`);
  }
  return keys;
}

export function validateKeyCount(count: number): void {
  if (count > LIMITS.page.keysPerRequestMax) {
    throw new KvcError('KVC_TOO_MANY_KEYS', { detail: `${count} keys, at most ${LIMITS.page.keysPerRequestMax}` });
  }
}

/** A proto Dtype to the codec's; unspecified or unnamed values are KVC_UNKNOWN_DTYPE. */
export function dtypeFromProto(value: ProtoDtypeIn, field = 'dtype'): Dtype {
  const dtype = typeof value === 'string' ? DTYPE_FROM_PROTO[value] : undefined;
  if (dtype === undefined) throw new KvcError('KVC_UNKNOWN_DTYPE', { detail: `${field} is ${String(value)}` });
  return dtype;
}

/** Like dtypeFromProto, but unspecified means "none asked for". */
export function optionalDtypeFromProto(value: ProtoDtypeIn, field: string): Dtype | undefined {
  return value === 'DTYPE_UNSPECIFIED' || value === 0 ? undefined : dtypeFromProto(value, field);
}

export function dtypeToProto(dtype: Dtype): ProtoDtype {
  return DTYPE_TO_PROTO[dtype];
}

export function validatePageBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes > LIMITS.page.bytesMax) {
    throw new KvcError('KVC_PAGE_TOO_LARGE', { detail: `${bytes} bytes, at most ${LIMITS.page.bytesMax}` });
  }
}

/** product(shape) * size(dtype) must equal `bytes`; the shape is non-empty and has no zero dimension. */
export function validateShape(shape: number[], dtype: Dtype, bytes: number): void {
  if (shape.length === 0) throw new KvcError('KVC_SHAPE_MISMATCH', { detail: 'shape is empty' });
  let product = dtypeBytes(dtype);
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 1) throw new KvcError('KVC_SHAPE_MISMATCH', { detail: `shape [${shape}] has a dimension below 1` });
    product *= dim;
    // Stop before the product loses precision; it can no longer match a valid page.
    if (product > LIMITS.page.bytesMax) break;
  }
  if (product !== bytes) {
    throw new KvcError('KVC_SHAPE_MISMATCH', { detail: `shape [${shape}] of ${dtype} is ${product} bytes, the page says ${bytes}` });
  }
}

export function validateChecksum(data: Uint8Array, expected: number, key: Uint8Array): void {
  const actual = crc32c(data);
  if (actual !== expected) throw checksumMismatch(key, actual, expected);
}

/** The error of a page whose received bytes have crc32c `actual` where its meta says `expected` (wherever that was computed). */
export function checksumMismatch(key: Uint8Array, actual: number, expected: number): KvcError {
  return new KvcError('KVC_CHECKSUM_MISMATCH', {
    detail: `page ${Buffer.from(key).toString('hex')}: crc32c of the received bytes is ${actual}, the page says ${expected}`,
  });
}

/** A put page's metadata, checked; the payload is checked as it arrives (page-assembler.ts). */
export interface ValidatedPutMeta {
  ns: string;
  key: Uint8Array;
  parentKey?: Uint8Array;
  dtype: Dtype;
  shape: number[];
  tokens: number;
  bytes: number;
  crc32c: number;
  ttlMs?: number;
  storeDtype?: Dtype;
}

/**
 * The key and parent key are copied out of the received message: the bytes around them may be
 * overwritten once the page is proposed (a page received with room in front, cache-service.ts).
 */
export function validatePutMeta(meta: PageMetaIn): ValidatedPutMeta {
  const out: ValidatedPutMeta = {
    ns: validateNamespace(meta.namespace),
    key: Buffer.from(validateKey(meta.key)),
    dtype: dtypeFromProto(meta.dtype),
    shape: meta.shape,
    tokens: meta.tokens,
    bytes: meta.bytes,
    crc32c: meta.crc32c,
  };
  if (meta.parentKey.byteLength > 0) out.parentKey = Buffer.from(validateKey(meta.parentKey, 'parent_key'));
  validatePageBytes(meta.bytes);
  validateShape(meta.shape, out.dtype, meta.bytes);
  if (meta.ttlMs > TTL_MS_MAX) throw new KvcError('KVC_INVALID_ARGUMENT', { detail: `ttl_ms ${meta.ttlMs} is over the maximum ${TTL_MS_MAX} (365 days)` });
  if (meta.ttlMs > 0) out.ttlMs = meta.ttlMs;
  const storeDtype = optionalDtypeFromProto(meta.storeDtype, 'store_dtype');
  if (storeDtype !== undefined && storeDtype !== out.dtype) out.storeDtype = storeDtype;
  return out;
}

/** A lookup lease, 0 (none) to LIMITS.eviction.leaseMsMax. */
export function validateLeaseMs(leaseMs: number): number {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 0 || leaseMs > LIMITS.eviction.leaseMsMax) {
    throw new KvcError('KVC_INVALID_ARGUMENT', { detail: `lease_ms ${leaseMs} is outside 0..${LIMITS.eviction.leaseMsMax}` });
  }
  return leaseMs;
}

/** A pin's TTL, 1 ms to LIMITS.eviction.pinTtlMsMax. */
export function validatePinTtlMs(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > LIMITS.eviction.pinTtlMsMax) {
    throw new KvcError('KVC_INVALID_ARGUMENT', { detail: `ttl_ms ${ttlMs} is outside 1..${LIMITS.eviction.pinTtlMsMax} (1 hour)` });
  }
  return ttlMs;
}
