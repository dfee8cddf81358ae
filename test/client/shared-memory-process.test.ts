// Proves the same-host shared-memory path across processes: a real member process (`kvc start`
// from a config that sets `memory.sharedMemoryDir`) and this test process as the client, which
// maps the member's arena file read-only and copies pages from it (Status counts the leases).
// The member is then killed with SIGKILL: its file stays behind, stale. A new start of the same
// member replaces it with a file of a new nonce at the same path; the client, still holding the
// old mapping, is refused (KVC_SHM_NOT_ON_HOST), streams that read and maps the new file for the
// next. SIGTERM stops the member and removes the file. Skips without the addon.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { crc32c } from '../../src/codec/index.js';
import { nativeStatus, openSharedFile } from '../../src/native/index.js';
import { eventually } from '../wait.js';
import { sharedMemoryMember } from './member-process.js';

const native = nativeStatus();
const skip = native.loaded ? false : `needs the native addon (${native.reason})`;
const NS = 'shm-process';
const MIB = 1024 * 1024;

function nonceOf(file: string): string {
  const reader = openSharedFile(file);
  const header = new Uint8Array(32);
  reader.read(0, header);
  reader.close();
  return Buffer.from(header.subarray(16, 32)).toString('hex');
}

t.test('a member process shares its arena with this process; a crash leaves a stale file that the next start replaces', { skip }, async (t) => {
  const { address, start, exited } = await sharedMemoryMember(t, 'shm-process');
  const children: ChildProcess[] = [];
  const client = new KvcClient({ endpoints: [address], transfer: 'shared-memory', retries: 20, backoffMaxMs: 500 });
  t.teardown(() => client.close());
  const leaderUp = (): Promise<void> =>
    eventually(async () => (await client.status(address).catch(() => undefined))?.role === 'leader', 45_000, 'the member leads');
  const granted = async (): Promise<number> => (await client.status(address)).memoryTier?.sharedMemory?.leasesGranted ?? -1;

  children.push(start());
  await leaderUp();
  const data = new Uint8Array(2 * MIB).map((_, i) => (i * 31 + 7) & 0xff);
  const keys = [1, 2, 3].map((i) => new Uint8Array(16).fill(i));
  const put = await client.putPages(keys.map((key) => ({ meta: { namespace: NS, key, dtype: 'u8' as const, shape: [data.byteLength], tokens: 16 }, data })));
  t.same(put.map((p) => p.code), ['', '', '']);
  const readAll = async (): Promise<boolean> => {
    let ok = 0;
    for await (const page of client.getPages(NS, keys)) if (crc32c(page.data) === crc32c(data)) ok++;
    return ok === keys.length;
  };
  t.ok(await readAll(), 'pages read from the member process');
  t.equal(await client.sharedMemoryProblem(address), '', 'over shared memory');
  t.equal(await granted(), 3, 'three leases granted by the member');
  const file = (await client.status(address)).memoryTier!.sharedMemory!.files[0]!.path;
  const firstNonce = nonceOf(file);

  children[0]!.kill('SIGKILL');
  await exited(children[0]!);
  t.ok(existsSync(file), 'a killed member leaves its file behind');
  children.push(start());
  await leaderUp();
  t.ok(existsSync(file), 'the new start has a file at the same path');
  t.not(nonceOf(file), firstNonce, 'with a new nonce');
  t.ok(await readAll(), 'the stale mapping is refused, the read streamed');
  t.equal(await granted(), 0, 'no lease on the new run yet');
  t.ok(await readAll(), 'the next read maps the new file');
  t.equal(await granted(), 3, 'and takes leases there');

  children[1]!.kill('SIGTERM');
  await exited(children[1]!);
  t.notOk(existsSync(file), 'a stopped member removes its file');
});
