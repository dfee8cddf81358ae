// Proves how the client decides whether a member's arena is usable (src/client/shared-memory.ts),
// on real files written with the member's own header code (src/store sharedHeader), so the two
// copies of the header layout cannot drift apart: a good file gives the arena (nonce, files, the
// per-client bound); a Status that fails, lists no files, or lists files that cannot be opened,
// that are not arena files, of another header version or region, with nonces that differ from
// each other or whose SHA-256 is not Status's each give "stream" with the reason; forget() and
// close() close the readers. Status is a plain function here: what it answers is the test's input.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { MemberStatus } from '../../src/client/index.js';
import { PendingReleases, RELEASE_BATCH_MAX, RELEASE_DELAY_MS, RELEASE_FLUSH_AT, SharedMemoryReads, readHeaderNonce, type MemberArena } from '../../src/client/shared-memory.js';
import { openSharedFile, SHARED_ARENA_HEADER } from '../../src/native/index.js';
import { sharedHeader } from '../../src/store/index.js';

const NONCE = new Uint8Array(16).fill(7);
const OTHER = new Uint8Array(16).fill(9);

function statusWith(files: string[], nonceSha256: Uint8Array): MemberStatus {
  return {
    memoryTier: { sharedMemory: { files: files.map((file) => ({ path: file, fileBytes: 4096, dataOffset: 2 * 1024 * 1024 })), nonceSha256, leasesPerClientMax: 7 } },
  } as unknown as MemberStatus;
}

const sha = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest();
const noRelease = (): Promise<void> => Promise.resolve();

t.test('which members are read over shared memory, and why not', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvc-client-shm-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = async (name: string, header: Uint8Array): Promise<string> => {
    const full = path.join(dir, name);
    const bytes = new Uint8Array(4096);
    bytes.set(header);
    await writeFile(full, bytes);
    return full;
  };
  const good0 = await file('good-0', sharedHeader(NONCE, 0, 2, 2 * 1024 * 1024, 4096));
  const good1 = await file('good-1', sharedHeader(NONCE, 1, 2, 2 * 1024 * 1024, 4096));
  const otherNonce = await file('other-1', sharedHeader(OTHER, 1, 2, 2 * 1024 * 1024, 4096));
  const notArena = await file('text', new TextEncoder().encode('just some file, no header here at all'));
  const v2 = sharedHeader(NONCE, 0, 1, 0, 0);
  new DataView(v2.buffer).setUint32(SHARED_ARENA_HEADER.offsets.version, 2, true);
  const version2 = await file('v2', v2);

  const reader = openSharedFile(good0);
  t.same(readHeaderNonce(reader, 0), NONCE, 'the nonce of a good file');
  t.throws(() => readHeaderNonce(reader, 1), /is not region 1/);
  reader.close();

  const cases: [string, () => Promise<MemberStatus>, RegExp][] = [
    ['Status fails', () => Promise.reject(new Error('UNAUTHENTICATED')), /Status failed: UNAUTHENTICATED/],
    ['no shared memory', () => Promise.resolve({ memoryTier: { sharedMemory: null } } as unknown as MemberStatus), /does not share/],
    ['no tier at all', () => Promise.resolve({ memoryTier: null } as unknown as MemberStatus), /does not share/],
    ['a missing file', () => Promise.resolve(statusWith([path.join(dir, 'gone')], sha(NONCE))), /ENOENT/],
    ['not an arena file', () => Promise.resolve(statusWith([notArena], sha(NONCE))), /not an arena file/],
    ['another header version', () => Promise.resolve(statusWith([version2], sha(NONCE))), /header version 2/],
    ['files in the wrong order', () => Promise.resolve(statusWith([good1, good0], sha(NONCE))), /is not region 0/],
    ['files with different nonces', () => Promise.resolve(statusWith([good0, otherNonce], sha(NONCE))), /another nonce/],
    ['a nonce that is not the member\'s', () => Promise.resolve(statusWith([good0, good1], sha(OTHER))), /not the member's/],
  ];
  for (const [what, status, why] of cases) {
    const reads = new SharedMemoryReads(status, noRelease);
    t.equal(await reads.arena('m:1'), undefined, `${what}: stream`);
    t.match(await reads.whyStreamed('m:1'), why, `${what}: and why`);
    reads.close();
  }

  let asked = 0;
  const reads = new SharedMemoryReads(() => {
    asked++;
    return Promise.resolve(statusWith([good0, good1], sha(NONCE)));
  }, noRelease);
  const arena = await reads.arena('m:1');
  t.same(arena?.nonce, NONCE, 'a good member: its nonce');
  t.equal(arena?.files.length, 2, 'both files');
  t.equal(arena?.leasesPerClientMax, 7, 'and the bound from Status');
  t.equal(await reads.whyStreamed('m:1'), '');
  await reads.arena('m:1');
  t.equal(asked, 1, 'Status is asked once per member');
  reads.forget('m:1');
  await new Promise((resolve) => setImmediate(resolve));
  t.throws(() => arena!.files[0]!.read(0, new Uint8Array(1)), RangeError, 'forget closed the readers');
  const again = await reads.arena('m:1');
  t.equal(asked, 2, 'and the next read asks again');
  reads.close();
  await new Promise((resolve) => setImmediate(resolve));
  t.throws(() => again!.files[1]!.read(0, new Uint8Array(1)), RangeError, 'close closed them too');
  t.equal(reads.clientId.byteLength, 16, 'a 16-byte random client id');
});

t.test('copied leases wait for a GetPages to carry them, else go out in one ReleasePages', async (t) => {
  const sent: { endpoint: string; arena: MemberArena; ids: number[] }[] = [];
  const send = (endpoint: string, arena: MemberArena, ids: number[]): Promise<void> => {
    sent.push({ endpoint, arena, ids });
    return Promise.resolve();
  };
  const arena = (releasesWithGet: boolean): MemberArena => ({ nonce: NONCE, files: [], leasesPerClientMax: 1024, releasesWithGet });
  const a = arena(true);
  const b = arena(true);
  const delayMs = 5;
  const pending = new PendingReleases(send, delayMs);
  const later = (ms = 4 * delayMs): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  pending.add('m:1', a, [1, 2]);
  pending.add('m:1', a, [3]);
  pending.add('m:2', b, [9]);
  t.same(pending.take('m:1', b), [], 'not for another arena');
  t.same(pending.take('m:1', a), [1, 2, 3], 'a GetPages takes what waits for its member');
  t.same(pending.take('m:1', a), [], 'once');
  await later();
  t.same(sent.map((s) => [s.endpoint, s.ids]), [['m:2', [9]]], 'what no GetPages took goes out after the delay');
  t.equal(sent[0]!.arena, b, 'with the arena it came from');

  sent.length = 0;
  const old = arena(false);
  pending.add('m:4', old, Array.from({ length: RELEASE_FLUSH_AT - 1 }, (_, i) => i));
  t.same(sent, [], 'a member that does not take releases on GetPages: below the flush count, they wait');
  pending.add('m:4', old, [1000]);
  t.same(sent.map((s) => s.ids.length), [RELEASE_FLUSH_AT], 'at it: sent at once');
  t.equal(pending.waiting('m:4'), 0);

  sent.length = 0;
  pending.add('m:1', a, Array.from({ length: RELEASE_BATCH_MAX + 1 }, (_, i) => i));
  t.same(sent, [], 'a member that takes them: they wait for its next GetPages, however many');
  t.equal(pending.take('m:1', a).length, RELEASE_BATCH_MAX, 'which carries at most the bound');
  pending.add('m:1', a, Array.from({ length: RELEASE_BATCH_MAX }, (_, i) => i));
  pending.flushAll();
  t.same(sent.map((s) => s.ids.length), [RELEASE_BATCH_MAX, 1], 'ReleasePages of at most the bound each');
  t.equal(pending.waiting('m:1'), 0);

  sent.length = 0;
  pending.add('m:1', a, [5]);
  pending.add('m:1', b, [6]);
  t.same(pending.take('m:1', b), [6], 'the arena replaced (the member restarted): its older ids are dropped');
  pending.add('m:1', b, [7]);
  pending.drop('m:1');
  pending.add('m:3', a, [8]);
  pending.close();
  pending.add('m:3', a, Array.from({ length: RELEASE_BATCH_MAX }, (_, i) => i));
  await later();
  t.same(sent, [], 'drop and close send nothing, nor an add after close');

  const reads = new SharedMemoryReads(() => Promise.reject(new Error('unused')), send);
  reads.copied('m:1', old, [1]);
  t.same(reads.releasesToCarry('m:1', old), [], 'a member that does not take releases on GetPages gets none there');
  sent.length = 0;
  await later(4 * RELEASE_DELAY_MS);
  t.same(sent.map((s) => s.ids), [[1]], 'it gets them in ReleasePages');
  reads.copied('m:1', a, [2]);
  t.same(reads.releasesToCarry('m:1', a), [2]);
  reads.close();
});
