// Payload dtype conversions at the edge: a put may ask to store fp16 from fp32 or bf16, a get may
// ask for fp32 back from a stored fp16 (and, the same conversions, fp16 from a stored fp32/bf16).
// The arithmetic is the codec's (src/codec/fp16.ts, the reference a native addon must match);
// this file only views bytes as typed arrays and refuses conversions that do not exist.
import { bf16ToFp16, fp16ToFp32, fp32ToFp16, type Dtype } from '../codec/index.js';
import { KvcError } from '../errors.js';

type Conversion = (data: Uint8Array) => Uint8Array;

/**
 * `data` as an element view. A typed-array view needs an aligned offset, and received buffers are
 * often views at odd offsets: those are copied first. (`Buffer#slice` would not copy: it is a view.)
 */
function view<T>(data: Uint8Array, make: new (buffer: ArrayBuffer, byteOffset: number, length: number) => T, elementBytes: number): T {
  const length = data.byteLength / elementBytes;
  if (data.byteOffset % elementBytes === 0 && data.buffer instanceof ArrayBuffer) return new make(data.buffer, data.byteOffset, length);
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return new make(copy.buffer, 0, length);
}

function bytesOf(view: Uint16Array | Float32Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

const CONVERSIONS: Readonly<Record<string, Conversion>> = Object.freeze({
  'fp32>fp16': (data) => bytesOf(fp32ToFp16(view(data, Float32Array, 4))),
  'bf16>fp16': (data) => bytesOf(bf16ToFp16(view(data, Uint16Array, 2))),
  'fp16>fp32': (data) => bytesOf(fp16ToFp32(view(data, Uint16Array, 2))),
});

/** What a put may ask to store: fp16 from fp32 or bf16. */
const STORE_CONVERSIONS: ReadonlySet<string> = new Set(['fp32>fp16', 'bf16>fp16']);

/** `data` (of dtype `from`) as `to` for storing; the input is left unchanged. */
export function convertForStore(data: Uint8Array, from: Dtype, to: Dtype): Uint8Array {
  if (from === to) return data;
  const name = `${from}>${to}`;
  if (!STORE_CONVERSIONS.has(name)) throw new KvcError('KVC_UNKNOWN_DTYPE', { detail: `cannot store ${from} as ${to} (only fp32 or bf16 as fp16)` });
  return CONVERSIONS[name]!(data);
}

/** `data` (stored as `from`) returned as `to`; the input is left unchanged. */
export function convertForRead(data: Uint8Array, from: Dtype, to: Dtype): Uint8Array {
  if (from === to) return data;
  const conversion = CONVERSIONS[`${from}>${to}`];
  if (conversion === undefined) throw new KvcError('KVC_UNKNOWN_DTYPE', { detail: `cannot return a ${from} page as ${to}` });
  return conversion(data);
}
