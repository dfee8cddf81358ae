// Measures the memory the in-memory page index (src/store/page-index.ts) takes per page: N pages
// of 16-byte keys in chains of 16 (every page but the first of a chain names a parent), heap used
// before and after, with a forced GC around. Prints one JSON line.
//
//   node --expose-gc --import tsx scripts/page-index-memory.ts [pages]
import { PageIndex } from '../src/store/index.js';

const PAGES_DEFAULT = 100_000;
const CHAIN_PAGES = 16;
const KEY_BYTES = 16;

function key(i: number): Uint8Array {
  const out = new Uint8Array(KEY_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xabcdef01);
  view.setUint32(KEY_BYTES - 4, i);
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const pages = Number(process.argv[2] ?? PAGES_DEFAULT);
gc();
const before = process.memoryUsage().heapUsed;
const index = new PageIndex();
for (let i = 0; i < pages; i++) {
  const parent = i % CHAIN_PAGES === 0 ? {} : { parentKey: key(i - 1) };
  index.apply({ kind: 'put', ns: 'tenant/llama', key: key(i), meta: { dtype: 'fp16', shape: [32, 2, 8, 16, 128], tokens: 16, bytes: 2 << 20, crc32c: 1, createdAtMs: Date.now(), ...parent } });
}
gc();
const after = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ pages: index.pages, bytesPerPage: Math.round((after - before) / pages) }));
