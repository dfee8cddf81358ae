// Proves the snapshot stream's checksums (src/store/snapshot-stream.ts) with the work pool:
// crc32cCombine gives the crc32c of a concatenation from the parts' crcs for seeded random
// splits (empty, 1 byte, odd, 1 MiB and longer parts); the stream's whole crc is unchanged by
// combining (it equals crc32c over every chunk's bytes); ChunkWriter's sync path and its async
// path through a real worker thread produce the same chunks, field for field, for records
// smaller and larger than a chunk; ChunkReader's sync and async paths parse them back into the
// same records, and its async path still refuses a damaged chunk and a wrong whole crc. The
// pool's thresholds are lowered so every chunk goes to the worker even with the native addon.
// Last, a PageStore streams its snapshot and installs it through the pool (the member's wiring).
// Runs also with KVC_NATIVE=0.
import t from 'tap';
import { crc32c, crc32cCombine } from '../../src/codec/index.js';
import { WorkPool } from '../../src/workers/index.js';
import { ChunkReader, ChunkWriter, SNAPSHOT_CHUNK_BYTES, SnapshotStreamError, type SnapshotChunk, type SnapshotRecord } from '../../src/store/snapshot-stream.js';
import { PageStore } from '../../src/store/index.js';
import { prng } from '../codec/prng.js';
import { LARGE_BUDGET_BYTES, MIB, items, page, put, tempDirs } from '../store/helpers.js';

function randomBytes(bytes: number, next: () => number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = next() & 0xff;
  return out;
}

t.test('crc32cCombine is the crc of the concatenation', async (t) => {
  const next = prng(42);
  const whole = randomBytes(3 * SNAPSHOT_CHUNK_BYTES + 12_345, next);
  const cuts = [0, 1, 7, 4096, SNAPSHOT_CHUNK_BYTES, SNAPSHOT_CHUNK_BYTES + 1, whole.byteLength - 1, whole.byteLength];
  for (let i = 0; i < 12; i++) cuts.push(next() % whole.byteLength);
  for (const cut of cuts) {
    const a = whole.subarray(0, cut);
    const b = whole.subarray(cut);
    t.equal(crc32cCombine(crc32c(a), crc32c(b), b.byteLength), crc32c(whole), `cut at ${cut}`);
  }
  t.equal(crc32cCombine(0x1234_5678, crc32c(new Uint8Array(0)), 0), 0x1234_5678, 'an empty second part changes nothing');
  t.equal(crc32cCombine(0, crc32c(whole), whole.byteLength), crc32c(whole), 'an empty first part');
});

function records(): SnapshotRecord[] {
  const next = prng(7);
  const sizes = [0, 1, 100, SNAPSHOT_CHUNK_BYTES - 8, SNAPSHOT_CHUNK_BYTES * 2 + 3, 5000, 70_000];
  return sizes.map((size, i) => ({ key: randomBytes(8 + i, next), value: randomBytes(size, next) }));
}

function streamBytes(chunks: SnapshotChunk[]): Buffer {
  return Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.data)));
}

t.test('sync and pooled ChunkWriter and ChunkReader agree', async (t) => {
  const pool = new WorkPool({ threads: 1, offloadBytesMin: 1, checksumOffloadBytesMin: 1 });
  t.teardown(() => pool.close());
  const input = records();
  const sync = new ChunkWriter();
  const pooled = new ChunkWriter(pool);
  const syncChunks: SnapshotChunk[] = [];
  const pooledChunks: SnapshotChunk[] = [];
  for (const record of input) {
    syncChunks.push(...sync.add(record));
    pooledChunks.push(...(await pooled.addAsync(record)));
  }
  syncChunks.push(sync.finish(99));
  pooledChunks.push(await pooled.finishAsync(99));
  t.ok(pool.status().offloadedJobs >= pooledChunks.length, 'every chunk checksum went to the worker');
  t.equal(pooledChunks.length, syncChunks.length);
  pooledChunks.forEach((chunk, i) => {
    const reference = syncChunks[i]!;
    t.same({ ...chunk, data: Buffer.from(chunk.data) }, { ...reference, data: Buffer.from(reference.data) }, `chunk ${i}: identical`);
  });
  const last = syncChunks.at(-1)!;
  t.equal(last.totalCrc32c, crc32c(streamBytes(syncChunks)), 'the whole crc is the crc32c over every chunk, as before combining');

  const syncReader = new ChunkReader();
  const pooledReader = new ChunkReader(pool);
  const syncRecords: SnapshotRecord[] = [];
  const pooledRecords: SnapshotRecord[] = [];
  for (const chunk of syncChunks) {
    syncRecords.push(...syncReader.push(chunk));
    pooledRecords.push(...(await pooledReader.pushAsync(chunk)));
  }
  t.equal(syncReader.finish(), 99);
  t.equal(pooledReader.finish(), 99);
  const plain = (list: SnapshotRecord[]): [Buffer, Buffer][] => list.map((r) => [Buffer.from(r.key), Buffer.from(r.value)]);
  t.same(plain(pooledRecords), plain(input), 'the pooled reader parses back every record');
  t.same(plain(syncRecords), plain(input));
  t.ok(syncChunks.every((chunk) => chunk.data.byteLength > 0), 'the reader left the chunks it was handed intact');
});

t.test('the pooled reader refuses damage', async (t) => {
  const pool = new WorkPool({ threads: 1, offloadBytesMin: 1, checksumOffloadBytesMin: 1 });
  t.teardown(() => pool.close());
  const writer = new ChunkWriter();
  const chunks = [...records().flatMap((record) => writer.add(record)), writer.finish(5)];
  const damaged = new ChunkReader(pool);
  const bad = { ...chunks[0]!, data: chunks[0]!.data.slice() };
  bad.data[10]! ^= 1;
  await t.rejects(damaged.pushAsync(bad), new SnapshotStreamError('chunk 0 fails its crc32c'));
  const wrongTotal = new ChunkReader(pool);
  const last = chunks.length - 1;
  await t.rejects(
    (async () => {
      for (const [i, chunk] of chunks.entries()) await wrongTotal.pushAsync(i === last ? { ...chunk, totalCrc32c: (chunk.totalCrc32c! ^ 1) >>> 0 } : chunk);
    })(),
    new SnapshotStreamError('stream fails its whole crc32c'),
  );
  const outOfOrder = new ChunkReader(pool);
  await t.rejects(outOfOrder.pushAsync(chunks[1]!), new SnapshotStreamError('chunk 1 where 0 was expected'));
});

t.test('a store streams and installs its snapshot with the checksums in the pool', async (t) => {
  const pool = new WorkPool({ threads: 1, offloadBytesMin: 1, checksumOffloadBytesMin: 1 });
  t.teardown(() => pool.close());
  const dirs = await tempDirs();
  t.teardown(() => dirs.cleanup());
  const source = await PageStore.open({ dir: dirs.path('source'), budgetBytes: LARGE_BUDGET_BYTES, checksums: pool });
  t.teardown(() => source.close());
  // Pages above a chunk, so records span chunks, plus small ones.
  await source.apply(items(1, put(page('ns', 1, 1, 3 * MIB), page('ns', 2, 2, 100)), put(page('ns', 3, 3, MIB + 17))));
  const before = pool.status().offloadedJobs;
  const result = await PageStore.installSnapshot(dirs.path('copy'), source.snapshotReader(), { checksums: pool });
  t.same(result, { installed: true, appliedIndex: 2 });
  t.ok(pool.status().offloadedJobs - before >= 2 * 4, 'both the writer and the reader checksummed their chunks in the worker');
  const copy = await PageStore.open({ dir: dirs.path('copy'), budgetBytes: LARGE_BUDGET_BYTES });
  t.teardown(() => copy.close());
  t.equal(await copy.digest(), await source.digest(), 'the installed copy has the same state');
});
