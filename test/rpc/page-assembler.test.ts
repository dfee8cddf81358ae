// Proves the PutPages framing rules of src/rpc/page-assembler.ts without a server: pages arrive
// whole in one message (used in place, no copy, marked not owned so it is never moved to a
// worker thread) or in chunks (copied into one buffer of its own sized from the validated meta,
// marked owned, or into the buffer the caller gives for it, not owned), and every framing error has its code: a stream that ends or a page that
// begins mid-page (KVC_INCOMPLETE_PAGE), more bytes than declared (KVC_SHAPE_MISMATCH), data
// before any meta (KVC_CODEC), a message over the client message limit, and more pages than the
// keys-per-request limit. The checksum is not the assembler's: a page with a wrong one comes out
// as it came in (test/rpc/put-pool.test.ts proves PutPages refuses it).
import t from 'tap';
import { crc32c } from '../../src/codec/index.js';
import { LIMITS } from '../../src/limits.js';
import { PageAssembler } from '../../src/rpc/page-assembler.js';
import type { PageMeta__Output as PageMetaIn, PutPagesRequest__Output as PutPagesRequest } from '../../src/proto/index.js';

function page(i: number, bytes: number): { meta: PageMetaIn; data: Buffer } {
  const data = Buffer.alloc(bytes, i);
  const key = Buffer.alloc(8, 0);
  key.writeUInt32BE(i);
  return {
    meta: { namespace: 'ns', key, parentKey: Buffer.alloc(0), dtype: 'U8', shape: [bytes], tokens: 1, bytes, crc32c: crc32c(data), ttlMs: 0, storeDtype: 'DTYPE_UNSPECIFIED', createdAtMs: 0 },
    data,
  };
}

function chunks(p: { meta: PageMetaIn; data: Buffer }, size: number): PutPagesRequest[] {
  const out: PutPagesRequest[] = [];
  for (let offset = 0; offset < p.data.byteLength; offset += size) {
    const end = Math.min(offset + size, p.data.byteLength);
    out.push({ meta: offset === 0 ? p.meta : null, data: p.data.subarray(offset, end), last: end === p.data.byteLength });
  }
  return out;
}

t.test('whole and chunked pages', async (t) => {
  const assembler = new PageAssembler();
  const single = page(1, 100);
  const whole = assembler.push({ meta: single.meta, data: single.data, last: true });
  t.equal(whole?.data, single.data, 'a page in one message is used in place');
  t.equal(whole?.owned, false, 'and is not the assembler\'s to give away');
  const chunked = page(2, 1000);
  const parts = chunks(chunked, 300);
  t.equal(assembler.push(parts[0]!), undefined);
  t.equal(assembler.push(parts[1]!), undefined);
  t.equal(assembler.push(parts[2]!), undefined);
  const done = assembler.push(parts[3]!);
  t.same(Buffer.from(done!.data), chunked.data, 'a chunked page is reassembled');
  t.not(done!.data, chunked.data, 'into its own buffer');
  t.equal(done!.owned, true, 'which the assembler owns');
  t.equal(done!.data.byteOffset, 0, 'the whole of its ArrayBuffer');
  t.equal(done!.data.buffer.byteLength, 1000);
  const withEmptyMeta = page(3, 10);
  t.equal(assembler.push({ meta: withEmptyMeta.meta, data: Buffer.alloc(0), last: false }), undefined, 'a meta message may carry no data');
  t.ok(assembler.push({ meta: null, data: withEmptyMeta.data, last: true }));
  assembler.finish();
});

t.test('a chunked page goes into the buffer the caller gives, not owned; a whole one stays in place', async (t) => {
  const given: Uint8Array[] = [];
  const assembler = new PageAssembler((meta) => {
    if (meta.bytes < 500) return undefined;
    const room = new Uint8Array(16 + meta.bytes);
    given.push(room.subarray(16));
    return given.at(-1);
  });
  const single = page(1, 600);
  t.equal(assembler.push({ meta: single.meta, data: single.data, last: true })?.data, single.data, 'one message: in place, no buffer asked for');
  t.equal(given.length, 0);
  const chunked = page(2, 1000);
  const parts = chunks(chunked, 600);
  assembler.push(parts[0]!);
  const done = assembler.push(parts[1]!);
  t.equal(done?.data, given[0], 'assembled into the given buffer');
  t.same(Buffer.from(done!.data), chunked.data, 'with every byte');
  t.equal(done?.owned, false, 'which the assembler does not own (a view: never moved to a worker)');
  const small = page(3, 300);
  const own = chunks(small, 200);
  assembler.push(own[0]!);
  t.equal(assembler.push(own[1]!)?.owned, true, 'no buffer given: its own');
  const wrongSize = new PageAssembler(() => new Uint8Array(3));
  t.throws(() => wrongSize.push(chunks(chunked, 600)[0]!), { message: /size its meta declares/ }, 'a given buffer of another size is a bug');
});

t.test('framing errors', async (t) => {
  const p = page(4, 1000);
  const parts = chunks(p, 400);
  let a = new PageAssembler();
  a.push(parts[0]!);
  t.throws(() => a.finish(), { code: 'KVC_INCOMPLETE_PAGE', message: /400 of 1000/ });
  a = new PageAssembler();
  a.push(parts[0]!);
  t.throws(() => a.push({ meta: page(5, 10).meta, data: Buffer.alloc(0), last: false }), { code: 'KVC_INCOMPLETE_PAGE' });
  a = new PageAssembler();
  a.push(parts[0]!);
  t.throws(() => a.push({ meta: null, data: Buffer.alloc(700), last: true }), { code: 'KVC_SHAPE_MISMATCH' });
  a = new PageAssembler();
  a.push(parts[0]!);
  t.throws(() => a.push({ meta: null, data: Buffer.alloc(10), last: true }), { code: 'KVC_INCOMPLETE_PAGE' });
  t.throws(() => new PageAssembler().push({ meta: null, data: Buffer.alloc(1), last: true }), { code: 'KVC_CODEC' });
  const wrong = new PageAssembler().push({ meta: { ...p.meta, crc32c: 1 }, data: p.data, last: true });
  t.equal(wrong?.meta.crc32c, 1, 'a wrong checksum is left to the put preparation');
  a = new PageAssembler();
  a.push({ meta: { ...p.meta, crc32c: 1 }, data: p.data.subarray(0, 500), last: false });
  t.ok(Buffer.from(a.push({ meta: null, data: p.data.subarray(500), last: true })!.data).equals(p.data), 'reassembled as sent');
  const huge = Buffer.alloc(LIMITS.rpc.clientMessageBytesMax + 1);
  t.throws(() => new PageAssembler().push({ meta: null, data: huge, last: true }), { code: 'KVC_PAGE_TOO_LARGE' });
  t.throws(() => new PageAssembler().push({ meta: { ...p.meta, bytes: LIMITS.page.bytesMax + 1 }, data: Buffer.alloc(0), last: false }), { code: 'KVC_PAGE_TOO_LARGE' });
  a = new PageAssembler();
  const tiny = page(6, 1);
  for (let i = 0; i < LIMITS.page.keysPerRequestMax; i++) a.push({ meta: tiny.meta, data: tiny.data, last: true });
  t.throws(() => a.push({ meta: tiny.meta, data: tiny.data, last: true }), { code: 'KVC_TOO_MANY_KEYS' });
});
