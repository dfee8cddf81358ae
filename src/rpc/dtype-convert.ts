// Payload dtype conversions at the edge: a put may ask to store fp16 from fp32 or bf16, a get may
// ask for fp32 back from a stored fp16 (and, the same conversions, fp16 from a stored fp32/bf16).
// The arithmetic is src/bytes's (fp16.ts, the reference a native addon must match);
// the byte-level store conversions are the work pool's (src/workers/pool-jobs.ts), so a put
// converted inline and one converted in a worker thread run the same code. This file refuses
// conversions that do not exist.
import { fp16ToFp32, type Dtype } from '../codec/index.js';
import { KvcError } from '../errors.js';
import { convert, storeConversion, type StoreConversion } from '../workers/index.js';

type Conversion = (data: Uint8Array) => Uint8Array;

/** `data` as a Uint16Array view, copied first when its offset is odd (received buffers often are). */
function fp16View(data: Uint8Array): Uint16Array {
  const length = data.byteLength / Uint16Array.BYTES_PER_ELEMENT;
  if (data.byteOffset % Uint16Array.BYTES_PER_ELEMENT === 0 && data.buffer instanceof ArrayBuffer) return new Uint16Array(data.buffer, data.byteOffset, length);
  return new Uint16Array(new Uint8Array(data).buffer, 0, length);
}

const CONVERSIONS: Readonly<Record<string, Conversion>> = Object.freeze({
  'fp32>fp16': (data) => convert(data, 'fp32>fp16'),
  'bf16>fp16': (data) => convert(data, 'bf16>fp16'),
  'fp16>fp32': (data) => {
    const out = fp16ToFp32(fp16View(data));
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
});

/**
 * The conversion a put's store_dtype asks for: undefined for none (the same dtype), else fp32 or
 * bf16 to fp16; anything else is KVC_UNKNOWN_DTYPE.
 */
export function storeConversionFor(from: Dtype, to: Dtype): StoreConversion | undefined {
  if (from === to) return undefined;
  const conversion = storeConversion(from, to);
  if (conversion === undefined) throw new KvcError('KVC_UNKNOWN_DTYPE', { detail: `cannot store ${from} as ${to} (only fp32 or bf16 as fp16)` });
  return conversion;
}

/** `data` (of dtype `from`) as `to` for storing; the input is left unchanged. */
export function convertForStore(data: Uint8Array, from: Dtype, to: Dtype): Uint8Array {
  const conversion = storeConversionFor(from, to);
  return conversion === undefined ? data : convert(data, conversion);
}

/** `data` (stored as `from`) returned as `to`; the input is left unchanged. */
export function convertForRead(data: Uint8Array, from: Dtype, to: Dtype): Uint8Array {
  if (from === to) return data;
  const conversion = CONVERSIONS[`${from}>${to}`];
  if (conversion === undefined) throw new KvcError('KVC_UNKNOWN_DTYPE', { detail: `cannot return a ${from} page as ${to}` });
  return conversion(data);
}
