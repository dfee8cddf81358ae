// Proves PutPages through the work pool end to end, with real in-process members on 127.0.0.1:
// one member with workerThreads 2 and one with workerThreads 0 take the same stream of large
// fp32 and bf16 pages (store_dtype fp16, chunked, so each is prepared in a worker thread) plus
// fp16 and small pages (inline), and both serve back the same bytes, equal to the codec's
// conversion, with the crc32c of those bytes; that a worker did the work shows in the member's
// log (each worker reports its pinning when it starts). A page whose bytes do not match its
// crc32c fails the stream with DATA_LOSS / KVC_CHECKSUM_MISMATCH and the same detail as before
// the pool, the pages before it are stored and the ones after it are not.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { bf16ToFp16, crc32c, fp32ToFp16 } from '../../src/codec/index.js';
import type { GetPagesResponse__Output as GetPagesResponse, LookupResponse__Output as LookupResponse } from '../../src/rpc/index.js';
import { prng } from '../codec/prng.js';
import { NS, RawClient, pageKey, putPages, startCluster, type CallError, type TestCluster, type TestPage } from './helpers.js';

const MIB = 1024 * 1024;
/** Layers of every test page; each page is [LAYERS, elements / LAYERS]. */
const LAYERS = 4;

function randomBytes(bytes: number, seed: number): Uint8Array {
  const next = prng(seed);
  const words = new Uint32Array(bytes / 4);
  for (let i = 0; i < words.length; i++) words[i] = next();
  return new Uint8Array(words.buffer);
}

/** An fp32 page of finite values (as a model writes them), including ones past fp16's range. */
function fp32Page(i: number, bytes: number): TestPage {
  const next = prng(i);
  const values = Float32Array.from({ length: bytes / 4 }, () => ((next() / 2 ** 32) * 2 - 1) * 2 ** ((next() % 40) - 20));
  const data = new Uint8Array(values.buffer);
  return page(i, data, 'FP32', 4);
}

function page(i: number, data: Uint8Array, dtype: 'FP32' | 'BF16' | 'FP16' | 'U8', elementBytes: number, storeDtype?: 'FP16'): TestPage {
  const elements = data.byteLength / elementBytes;
  const meta: TestPage['meta'] = { namespace: NS, key: pageKey(i), dtype, shape: [LAYERS, elements / LAYERS], tokens: 16, bytes: data.byteLength, crc32c: crc32c(data) };
  if (storeDtype !== undefined || dtype === 'FP32' || dtype === 'BF16') meta.storeDtype = storeDtype ?? 'FP16';
  return { meta, data };
}

/** What the member must store for `p`: fp16 from fp32/bf16, the bytes themselves otherwise. */
function expectedStored(p: TestPage): Buffer {
  const copy = p.data.slice();
  if (p.meta.dtype === 'FP32') return Buffer.from(fp32ToFp16(new Float32Array(copy.buffer)).buffer);
  if (p.meta.dtype === 'BF16') return Buffer.from(bf16ToFp16(new Uint16Array(copy.buffer)).buffer);
  return Buffer.from(copy);
}

async function getPages(client: RawClient, keys: Uint8Array[]): Promise<{ meta: NonNullable<GetPagesResponse['meta']>; data: Buffer }[]> {
  const { messages, error } = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys });
  if (error !== undefined) throw error;
  const pages: { meta: NonNullable<GetPagesResponse['meta']>; data: Buffer }[] = [];
  let parts: Buffer[] = [];
  let meta: GetPagesResponse['meta'] = null;
  for (const m of messages) {
    meta = m.meta ?? meta;
    parts.push(Buffer.from(m.data));
    if (m.last) {
      pages.push({ meta: meta!, data: Buffer.concat(parts) });
      parts = [];
    }
  }
  return pages;
}

async function member(t: Test, workerThreads: number): Promise<{ cluster: TestCluster; client: RawClient }> {
  const cluster = await startCluster([1], { workerThreads });
  const client = new RawClient(cluster.addresses.get(1)!);
  t.teardown(async () => {
    client.close();
    await cluster.stopAll();
  });
  await cluster.leader();
  return { cluster, client };
}

const pages: TestPage[] = [
  fp32Page(1, 4 * MIB),
  page(2, randomBytes(2 * MIB, 2), 'BF16', 2),
  page(3, randomBytes(64 * 1024, 3), 'FP16', 2),
  fp32Page(4, 256 * 1024),
  page(5, randomBytes(3 * MIB, 5), 'U8', 1),
  fp32Page(6, 2 * MIB),
];

t.test('workerThreads 2 and 0 store the same bytes, the codec conversion', async (t) => {
  const pooled = await member(t, 2);
  const inline = await member(t, 0);
  for (const [name, m] of [['workerThreads 2', pooled], ['workerThreads 0', inline]] as const) {
    const put = await putPages(m.client, pages);
    t.same(put.results.map((r) => r.code), pages.map(() => ''), `${name}: every page stored`);
  }
  const keys = pages.map((p) => p.meta.key);
  const [fromPooled, fromInline] = await Promise.all([getPages(pooled.client, keys), getPages(inline.client, keys)]);
  pages.forEach((p, i) => {
    const expected = expectedStored(p);
    t.ok(fromPooled[i]!.data.equals(expected), `page ${i + 1} (${p.meta.dtype}, ${p.data.byteLength} bytes): pooled member's bytes`);
    t.ok(fromInline[i]!.data.equals(expected), `page ${i + 1}: inline member's bytes`);
    t.equal(fromPooled[i]!.meta.crc32c, crc32c(expected), `page ${i + 1}: crc32c of the stored bytes`);
    t.equal(fromInline[i]!.meta.crc32c, fromPooled[i]!.meta.crc32c);
    t.equal(fromPooled[i]!.meta.dtype, p.meta.storeDtype ?? p.meta.dtype);
  });
  t.ok(pooled.cluster.logs.some((line) => /work pool: worker thread \d+/.test(line)), 'a worker thread started on the pooled member');
  t.notOk(inline.cluster.logs.some((line) => line.includes('work pool: worker thread')), 'none on the inline member');
});

t.test('a bad checksum fails the stream with KVC_CHECKSUM_MISMATCH; later pages are not proposed', async (t) => {
  const { client } = await member(t, 2);
  const good = fp32Page(20, 2 * MIB);
  const bad = fp32Page(21, 2 * MIB);
  const wrong = (bad.meta.crc32c ^ 0x5a5a) >>> 0;
  const after = fp32Page(22, 2 * MIB);
  const afterSmall = page(23, randomBytes(1024, 23), 'U8', 1);
  const error = (await putPages(client, [good, { ...bad, meta: { ...bad.meta, crc32c: wrong } }, after, afterSmall]).then(
    () => t.fail('the stream must fail'),
    (e: unknown) => e,
  )) as CallError;
  t.equal(error.code, grpc.status.DATA_LOSS);
  t.equal(error.kvcCode, 'KVC_CHECKSUM_MISMATCH');
  const key = Buffer.from(pageKey(21)).toString('hex');
  t.match(error.details, `page ${key}: crc32c of the received bytes is ${bad.meta.crc32c}, the page says ${wrong}`, 'the detail names the page and both checksums');
  const lookup = async (i: number): Promise<number> => (await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [pageKey(i)] })).matched;
  t.equal(await lookup(20), 1, 'the page before it is stored');
  t.equal(await lookup(21), 0, 'the bad page is not');
  t.equal(await lookup(22), 0, 'nor the large page after it');
  t.equal(await lookup(23), 0, 'nor the small one (prepared first, proposed in order)');
  const retry = await putPages(client, [after]);
  t.equal(retry.results[0]!.code, '', 'the member goes on serving puts');
});
