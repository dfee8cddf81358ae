// Put commands for the benchmarks: pages with unique keys and real crc32c, their payloads drawn
// from a small pool of pseudo-random buffers made once per size, so that generating bytes never
// shows up in a measured time. The layout of keys and metadata follows what the node tests use
// (a 16-byte key, dtype u8, one dimension), without importing from test/.
import { crc32c, type Command, type PageMeta } from '../../src/codec/index.js';

export const BENCH_NS = 'bench';
const KEY_BYTES = 16;
/** Distinct payloads per size; more would only cost memory (32 MiB each at the largest size). */
const POOL_PAYLOADS = 4;
const TOKENS_PER_PAGE = 256;
const CREATED_AT_MS_BASE = 1_700_000_000_000;

/** A 16-byte key: "kvc", then the page number big-endian in the last four bytes. */
export function benchPageKey(i: number): Uint8Array {
  const key = new Uint8Array(KEY_BYTES);
  key.set([0x6b, 0x76, 0x63], 0);
  new DataView(key.buffer).setUint32(KEY_BYTES - 4, i);
  return key;
}

/** Incompressible bytes (xorshift32 words); the seed makes each pool buffer different. */
function randomPayload(bytes: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(bytes / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let k = 0; k < words.length; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[k] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, bytes);
}

export class PageGenerator {
  readonly pageBytes: number;
  readonly #payloads: { data: Uint8Array; crc: number }[];

  constructor(pageBytes: number) {
    this.pageBytes = pageBytes;
    this.#payloads = Array.from({ length: POOL_PAYLOADS }, (_, k) => {
      const data = randomPayload(pageBytes, k + 1);
      return { data, crc: crc32c(data) };
    });
  }

  /** The payload page `i` carries (shared between pages; the store copies what it keeps). */
  payload(i: number): Uint8Array {
    return this.#payloads[i % POOL_PAYLOADS]!.data;
  }

  /** A put of page `i` alone, in namespace BENCH_NS. */
  put(i: number): Command {
    const { data, crc } = this.#payloads[i % POOL_PAYLOADS]!;
    const meta: PageMeta = {
      ns: BENCH_NS,
      key: benchPageKey(i),
      dtype: 'u8',
      shape: [this.pageBytes],
      tokens: TOKENS_PER_PAGE,
      bytes: this.pageBytes,
      crc32c: crc,
      createdAtMs: CREATED_AT_MS_BASE + i,
    };
    return { op: 'put', pages: [{ meta, data }] };
  }
}
