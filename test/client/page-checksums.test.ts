// Proves that the client checks every page it assembles against its crc32c while copying it
// (src/client/pages.ts PageAssembler, src/client/shared-memory.ts copySharedPage), without
// reading the page back afterwards: a streamed page split into chunks of random sizes arrives
// whole and passes into a fresh buffer or a caller's destination; one flipped byte in any chunk,
// or a wrong crc32c in the metadata, fails it with KVC_CHECKSUM_MISMATCH unless checks are off;
// a shared-memory page is checked with the checksum its copy returned, always, also when the copy
// runs on the pool (a promise per page, each keeping its place, rejected as the page would have
// thrown); copySharedPage
// returns the same bytes and crc32c from the addon's mapping (one pass) and from the pread reader
// (read, then checksum; with the mapping a page from COPY_ON_POOL_BYTES_MIN on libuv's pool, as a
// promise, a smaller one at once), and refuses a region that is not one of the arena's files.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { crc32cTs } from '../../src/bytes/crc32c.js';
import { PageAssembler, type Page } from '../../src/client/pages.js';
import { COPY_ON_POOL_BYTES_MIN, copySharedPage, type MemberArena } from '../../src/client/shared-memory.js';
import { NativeApi } from '../../src/native/api.js';
import { allocShared, freePinned, nativeStatus, openSharedFile, SHARED_DATA_OFFSET } from '../../src/native/index.js';
import type { GetPagesResponse__Output as GetPagesResponse } from '../../src/proto/index.js';
import { prng } from '../codec/prng.js';

const KEY = new Uint8Array(16).fill(3);
const ENDPOINT = '127.0.0.1:1';

function bytesOf(next: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => next() & 0xff);
}

function meta(data: Uint8Array, crc = crc32cTs(data)): GetPagesResponse['meta'] {
  return { namespace: 'ns', key: Buffer.from(KEY), parentKey: Buffer.alloc(0), dtype: 'U8', shape: [data.byteLength], tokens: 1, bytes: data.byteLength, crc32c: crc, ttlMs: 0, createdAtMs: 1 } as unknown as GetPagesResponse['meta'];
}

/** The page's messages: chunks of random sizes (1 .. 70,000 bytes), the first with the metadata. */
function chunks(data: Uint8Array, next: () => number, crc?: number): GetPagesResponse[] {
  const messages: GetPagesResponse[] = [];
  let offset = 0;
  do {
    const end = Math.min(data.byteLength, offset + 1 + (next() % 70_000));
    messages.push({ meta: offset === 0 ? meta(data, crc) : null, data: Buffer.from(data.subarray(offset, end)), offset, last: end === data.byteLength } as unknown as GetPagesResponse);
    offset = end;
  } while (offset < data.byteLength);
  return messages;
}

function assemble(messages: GetPagesResponse[], verify: boolean, destination?: Uint8Array): Uint8Array {
  const assembler = new PageAssembler([KEY], ENDPOINT, () => destination, verify);
  let page: Uint8Array | undefined;
  for (const message of messages) page = (assembler.push(message) as Page | undefined)?.data ?? page;
  assembler.finish();
  return page!;
}

t.test('streamed pages: checked while copied, chunk by chunk', async (t) => {
  const next = prng(41);
  for (const length of [0, 1, 127, 128, 5000, 262_147, 2 * 1024 * 1024 + 3]) {
    const data = bytesOf(next, length);
    t.same(Buffer.from(assemble(chunks(data, next), true)), Buffer.from(data), `${length} bytes into a fresh buffer`);
    const destination = new Uint8Array(length);
    t.equal(assemble(chunks(data, next), true, destination), destination, 'or into the caller\'s destination');
    t.same(Buffer.from(destination), Buffer.from(data));
    if (length === 0) continue;
    const damaged = chunks(data, next);
    const hit = damaged[next() % damaged.length]!;
    hit.data[next() % hit.data.byteLength] ^= 0x10;
    t.throws(() => assemble(damaged, true), { code: 'KVC_CHECKSUM_MISMATCH' }, 'a flipped byte in any chunk fails the page');
    t.ok(assemble(damaged, false), 'with checks off it passes (the check is what caught it)');
    t.throws(() => assemble(chunks(data, next, crc32cTs(data) ^ 1), true), { code: 'KVC_CHECKSUM_MISMATCH' }, 'so does a wrong crc32c');
  }
});

t.test('shared-memory pages: the copy\'s checksum is checked, even with checks off', async (t) => {
  const data = bytesOf(prng(42), 4096);
  const message = { meta: meta(data), shared: { region: 0, offset: 0, length: data.byteLength, leaseId: 1, expiresInMs: 1000 } } as unknown as GetPagesResponse;
  for (const verify of [true, false]) {
    const good = new PageAssembler([KEY], ENDPOINT, () => undefined, verify, (_shared, target) => {
      target.set(data);
      return crc32cTs(target);
    });
    t.same(Buffer.from((good.push(message) as Page).data), Buffer.from(data), `checks ${verify ? 'on' : 'off'}: a good copy passes`);
    const changed = new PageAssembler([KEY], ENDPOINT, () => undefined, verify, (_shared, target) => {
      target.set(data);
      return crc32cTs(target) ^ 4;
    });
    t.throws(() => changed.push(message), { code: 'KVC_CHECKSUM_MISMATCH', message: /lease may have expired/ }, 'a copy whose checksum differs fails');
  }
});

t.test('shared-memory pages copied on the pool: a promise per page, checked when its copy ends', async (t) => {
  const next = prng(44);
  const pages = [bytesOf(next, 4096), bytesOf(next, 5000), bytesOf(next, 300)];
  const keys = pages.map((_, i) => new Uint8Array(16).fill(i + 1));
  const messages = pages.map((data, i) => ({ meta: { ...meta(data), key: keys[i] }, shared: { region: 0, offset: i, length: data.byteLength, leaseId: i, expiresInMs: 1000 } }) as unknown as GetPagesResponse);
  const finishers: (() => void)[] = [];
  const assembler = new PageAssembler(keys, ENDPOINT, () => undefined, false, (shared, target) => {
    const data = pages[shared.offset]!;
    if (shared.offset === 2) {
      target.set(data);
      return crc32cTs(target);
    }
    return new Promise<number>((resolve) => {
      finishers.push(() => {
        target.set(data);
        // The second page's copy is damaged.
        resolve(crc32cTs(target) ^ (shared.offset === 1 ? 1 : 0));
      });
    });
  });
  const first = assembler.push(messages[0]!);
  const second = assembler.push(messages[1]!);
  t.ok(first instanceof Promise && second instanceof Promise, 'pages whose copies run elsewhere come as promises');
  const third = assembler.push(messages[2]!) as Page;
  t.same(Buffer.from(third.data), Buffer.from(pages[2]!), 'the next pages may be pushed meanwhile, each in its place');
  assembler.finish();
  t.equal(assembler.completed, 3);
  for (const finish of finishers) finish();
  t.same(Buffer.from((await first!).data), Buffer.from(pages[0]!), 'a good copy resolves to its page');
  await t.rejects(second as Promise<Page>, { code: 'KVC_CHECKSUM_MISMATCH', message: /page 1 does not match/ }, 'a damaged one rejects, naming its page');
  const failing = new PageAssembler([keys[0]!], ENDPOINT, () => undefined, true, () => Promise.reject(new RangeError('the reader is closed')));
  await t.rejects(failing.push(messages[0]!) as Promise<Page>, { code: 'KVC_PROTOCOL', message: /page 0 cannot be copied from the shared arena: the reader is closed/ }, 'a copy that fails is the page\'s error');
});

t.test('copySharedPage: the mapping and the pread reader give the same bytes and crc32c', { skip: nativeStatus().loaded ? false : 'native addon not loaded' }, async (t) => {
  const file = path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `kvc-client-test-${process.pid}-${cryptoRandomBytes(4).toString('hex')}.arena`);
  t.teardown(() => rmSync(file, { force: true }));
  const region = allocShared(file, 2 * 1024 * 1024, {}, new Uint8Array(8));
  const payload = bytesOf(prng(43), 300_001);
  new Uint8Array(region.buffer).set(payload, 1000);
  const arenaOf = (reader: ReturnType<typeof openSharedFile>): MemberArena => ({ nonce: new Uint8Array(16), files: [reader], leasesPerClientMax: 1, releasesWithGet: true });
  const shared = { region: 0, offset: SHARED_DATA_OFFSET + 1000, length: payload.byteLength, leaseId: 1, expiresInMs: 1000 };
  const readers = [openSharedFile(file), new NativeApi({ addon: null, reason: 'test' }).openSharedFile(file)];
  for (const reader of readers) {
    const target = new Uint8Array(payload.byteLength);
    const copied = copySharedPage(arenaOf(reader), shared, target);
    t.equal(copied instanceof Promise, reader.mapped, `${reader.mapped ? 'mapped: on the pool' : 'pread: at once'} (${payload.byteLength} bytes)`);
    t.equal(await copied, crc32cTs(payload), `${reader.mapped ? 'mapped' : 'pread'}: the crc32c of the page`);
    t.same(Buffer.from(target), Buffer.from(payload), 'and its bytes');
    const small = new Uint8Array(COPY_ON_POOL_BYTES_MIN - 1);
    t.equal(copySharedPage(arenaOf(reader), { ...shared, length: small.byteLength }, small), crc32cTs(payload.subarray(0, small.byteLength)), 'a smaller page: at once');
    t.throws(() => copySharedPage(arenaOf(reader), { ...shared, region: 1 }, target), RangeError, 'region 1 of a one-file arena');
    reader.close();
  }
  freePinned(region);
});
