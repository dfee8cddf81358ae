// Proves the edge checks of src/rpc/validate.ts and the dtype conversions of dtype-convert.ts
// directly (no server): each bad input throws a KvcError with its registry code, the limits
// themselves are accepted, and conversions give the codec's results for aligned and unaligned
// buffers alike while refusing conversions that do not exist.
import t from 'tap';
import { crc32c, fp16ToFp32, fp32ToFp16 } from '../../src/codec/index.js';
import { LIMITS } from '../../src/limits.js';
import { convertForRead, convertForStore } from '../../src/rpc/dtype-convert.js';
import {
  dtypeFromProto,
  dtypeToProto,
  optionalDtypeFromProto,
  validateChecksum,
  validateKey,
  validateKeys,
  validateNamespace,
  validatePageBytes,
  validatePutMeta,
  validateShape,
  type PageMetaIn,
} from '../../src/rpc/validate.js';

function meta(overrides: Partial<PageMetaIn> = {}): PageMetaIn {
  const data = Buffer.alloc(64, 1);
  return {
    namespace: 'ns',
    key: Buffer.alloc(8, 2),
    parentKey: Buffer.alloc(0),
    dtype: 'FP16',
    shape: [2, 16],
    tokens: 16,
    bytes: 64,
    crc32c: crc32c(data),
    ttlMs: 0,
    storeDtype: 'DTYPE_UNSPECIFIED',
    createdAtMs: 0,
    ...overrides,
  };
}

t.test('namespaces, keys and key counts', async (t) => {
  for (const ok of ['a', 'A-z_0.9:/x', 'n'.repeat(LIMITS.namespace.lengthMax)]) t.equal(validateNamespace(ok), ok, `${ok.slice(0, 12)} is valid`);
  for (const bad of ['', 'a b', 'tab\t', 'é', 'n'.repeat(LIMITS.namespace.lengthMax + 1), 'semi;colon']) {
    t.throws(() => validateNamespace(bad), { code: 'KVC_INVALID_NAMESPACE' }, `${JSON.stringify(bad.slice(0, 12))} is invalid`);
  }
  t.throws(() => validateKey(new Uint8Array(LIMITS.page.keyBytesMin - 1)), { code: 'KVC_INVALID_KEY' });
  t.throws(() => validateKey(new Uint8Array(LIMITS.page.keyBytesMax + 1)), { code: 'KVC_INVALID_KEY' });
  t.equal(validateKey(new Uint8Array(LIMITS.page.keyBytesMax)).byteLength, LIMITS.page.keyBytesMax);
  t.throws(() => validateKeys(Array.from({ length: LIMITS.page.keysPerRequestMax + 1 }, () => new Uint8Array(8))), { code: 'KVC_TOO_MANY_KEYS' });
  t.throws(() => validateKeys([new Uint8Array(8), new Uint8Array(2)]), { code: 'KVC_INVALID_KEY', message: /keys\[1\]/ });
});

t.test('dtypes, sizes, shapes and checksums', async (t) => {
  t.equal(dtypeFromProto('BF16'), 'bf16');
  t.equal(dtypeToProto('u8'), 'U8');
  t.throws(() => dtypeFromProto('DTYPE_UNSPECIFIED'), { code: 'KVC_UNKNOWN_DTYPE' });
  t.throws(() => dtypeFromProto(42), { code: 'KVC_UNKNOWN_DTYPE' });
  t.equal(optionalDtypeFromProto('DTYPE_UNSPECIFIED', 'as_dtype'), undefined);
  t.equal(optionalDtypeFromProto(0, 'as_dtype'), undefined);
  t.throws(() => optionalDtypeFromProto(7, 'as_dtype'), { code: 'KVC_UNKNOWN_DTYPE', message: /as_dtype/ });
  validatePageBytes(LIMITS.page.bytesMax);
  t.throws(() => validatePageBytes(LIMITS.page.bytesMax + 1), { code: 'KVC_PAGE_TOO_LARGE' });
  validateShape([2, 3, 4], 'fp32', 96);
  t.throws(() => validateShape([2, 3, 4], 'fp16', 96), { code: 'KVC_SHAPE_MISMATCH' });
  t.throws(() => validateShape([], 'u8', 0), { code: 'KVC_SHAPE_MISMATCH' });
  t.throws(() => validateShape([4, 0], 'u8', 0), { code: 'KVC_SHAPE_MISMATCH' });
  t.throws(() => validateShape([1.5], 'u8', 1), { code: 'KVC_SHAPE_MISMATCH' });
  t.throws(() => validateShape([2 ** 20, 2 ** 20, 2 ** 20, 2 ** 20], 'u8', 1), { code: 'KVC_SHAPE_MISMATCH' }, 'a huge shape stops early');
  validateChecksum(new Uint8Array([1, 2, 3]), crc32c(new Uint8Array([1, 2, 3])), new Uint8Array(8));
  t.throws(() => validateChecksum(new Uint8Array([1, 2, 3]), 0, new Uint8Array(8)), { code: 'KVC_CHECKSUM_MISMATCH' });
});

t.test('a put page meta', async (t) => {
  const ok = validatePutMeta(meta({ parentKey: Buffer.alloc(8, 1), ttlMs: 500, storeDtype: 'FP16' }));
  t.equal(ok.ns, 'ns');
  t.equal(ok.ttlMs, 500);
  t.equal(ok.parentKey?.byteLength, 8);
  t.equal(ok.storeDtype, undefined, 'store_dtype equal to the dtype is no conversion');
  t.equal(validatePutMeta(meta({ dtype: 'FP32', shape: [16], storeDtype: 'FP16' })).storeDtype, 'fp16');
  t.throws(() => validatePutMeta(meta({ parentKey: Buffer.alloc(3) })), { code: 'KVC_INVALID_KEY', message: /parent_key/ });
  t.throws(() => validatePutMeta(meta({ storeDtype: 12 })), { code: 'KVC_UNKNOWN_DTYPE' });
});

t.test('dtype conversions', async (t) => {
  const fp32 = Float32Array.from([0, 1, -2.5, 65504, 1e-8, Infinity, 3.14159]);
  const fp16 = fp32ToFp16(fp32);
  const fp32Bytes = new Uint8Array(fp32.buffer);
  t.same(convertForStore(fp32Bytes, 'fp32', 'fp16'), new Uint8Array(fp16.buffer), 'fp32 -> fp16 is the codec rounding');
  // The same bytes at an odd offset (as a view into a received message would be).
  const unaligned = new Uint8Array(fp32Bytes.byteLength + 1).subarray(1);
  unaligned.set(fp32Bytes);
  t.same(convertForStore(unaligned, 'fp32', 'fp16'), new Uint8Array(fp16.buffer), 'an unaligned buffer is copied first');
  const fp16Bytes = new Uint8Array(fp16.buffer);
  t.same(convertForRead(fp16Bytes, 'fp16', 'fp32'), new Uint8Array(fp16ToFp32(fp16).buffer), 'fp16 -> fp32 is exact');
  const bf16 = Uint16Array.from([0x3f80, 0xc020]); // 1.0, -2.5
  t.same([...new Uint16Array(convertForStore(new Uint8Array(bf16.buffer), 'bf16', 'fp16').slice().buffer)], [0x3c00, 0xc100], 'bf16 -> fp16');
  t.equal(convertForRead(fp16Bytes, 'fp16', 'fp16'), fp16Bytes, 'same dtype: the bytes themselves');
  t.equal(convertForStore(fp16Bytes, 'fp16', 'fp16'), fp16Bytes);
  t.throws(() => convertForStore(fp16Bytes, 'fp16', 'fp32'), { code: 'KVC_UNKNOWN_DTYPE' });
  t.throws(() => convertForStore(fp16Bytes, 'u8', 'fp16'), { code: 'KVC_UNKNOWN_DTYPE' });
  t.throws(() => convertForRead(fp16Bytes, 'u8', 'fp32'), { code: 'KVC_UNKNOWN_DTYPE' });
});
