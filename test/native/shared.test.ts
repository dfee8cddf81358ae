// Proves the addon's shared-memory regions and the two readers of them (src/native allocShared,
// openSharedFile): a region is a new file of mode 0600 with the header at its start and the
// payload from the data offset on, huge-page sized; an existing file is EEXIST (never reused);
// writes through the region's buffer are seen by a reader's copy; the mapped reader (addon) and
// the pread reader (the fallback, built from an API with no addon) return identical bytes at every
// offset tried, refuse ranges outside the file (RangeError) and reads after close; a missing file
// is ENOENT; freePinned unmaps without removing the file; without the addon allocShared says so
// with ERR_KVC_NO_ADDON.
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { NativeApi } from '../../src/native/api.js';
import { allocShared, freePinned, openSharedFile, SHARED_DATA_OFFSET } from '../../src/native/index.js';
import { skipWithoutAddon } from './helpers.js';

const MIB = 1024 * 1024;
const DIR = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

function tempPath(): string {
  return path.join(DIR, `kvc-native-test-${process.pid}-${randomBytes(4).toString('hex')}.arena`);
}

t.test('a shared region: file, header, payload, two readers that agree', { skip: skipWithoutAddon }, async (t) => {
  const file = tempPath();
  t.teardown(() => rmSync(file, { force: true }));
  const header = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const region = allocShared(file, 3 * MIB + 5, {}, header);
  t.same(region.shared, { path: file, fileBytes: SHARED_DATA_OFFSET + 4 * MIB, dataOffset: SHARED_DATA_OFFSET }, 'sized to the header page plus whole huge pages');
  t.equal(region.buffer.byteLength, 3 * MIB + 5, 'the buffer is the payload only');
  t.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600');
  t.equal(statSync(file).size, SHARED_DATA_OFFSET + 4 * MIB);
  t.throws(() => allocShared(file, MIB, {}, header), { code: 'EEXIST' }, 'an existing file is never taken over');
  const payload = new Uint8Array(region.buffer);
  for (let i = 0; i < payload.byteLength; i += 4099) payload[i] = (i * 13) & 0xff;

  const mapped = openSharedFile(file);
  const pread = new NativeApi({ addon: null, reason: 'test' }).openSharedFile(file);
  t.equal(mapped.mapped, true);
  t.equal(pread.mapped, false);
  t.equal(mapped.bytes, pread.bytes);
  const first = new Uint8Array(8);
  mapped.read(0, first);
  t.same(first, header, 'the header is at the start');
  for (const [offset, length] of [[SHARED_DATA_OFFSET, 4099 * 3], [SHARED_DATA_OFFSET + 12_345, 70_000], [SHARED_DATA_OFFSET + 3 * MIB, 5], [0, 64]] as const) {
    const a = new Uint8Array(length);
    const b = new Uint8Array(length);
    mapped.read(offset, a);
    pread.read(offset, b);
    t.same(a, b, `both readers agree at ${offset} +${length}`);
    if (offset >= SHARED_DATA_OFFSET) t.same(a, payload.subarray(offset - SHARED_DATA_OFFSET, offset - SHARED_DATA_OFFSET + length), 'and see the region\'s bytes');
  }
  for (const reader of [mapped, pread]) {
    t.throws(() => reader.read(reader.bytes - 10, new Uint8Array(11)), RangeError, `${reader.mapped ? 'mapped' : 'pread'}: past the end`);
    t.throws(() => reader.read(-1, new Uint8Array(1)), RangeError, 'a negative offset');
    reader.close();
    reader.close();
    t.throws(() => reader.read(0, new Uint8Array(1)), RangeError, 'a closed reader');
  }
  freePinned(region);
  t.ok(existsSync(file), 'freePinned unmaps; removing the file is the owner\'s job');
});

t.test('missing files and no addon', async (t) => {
  t.throws(() => openSharedFile(path.join(DIR, 'kvc-no-such-arena')), { code: 'ENOENT' });
  const api = new NativeApi({ addon: null, reason: 'test' });
  t.throws(() => api.allocShared(tempPath(), MIB, undefined, new Uint8Array(8)), { code: 'ERR_KVC_NO_ADDON' });
  t.throws(() => api.allocShared('relative/path', MIB, undefined, new Uint8Array(8)), TypeError);
  t.throws(() => api.openSharedFile(path.join(DIR, 'kvc-no-such-arena')), { code: 'ENOENT' });
});
