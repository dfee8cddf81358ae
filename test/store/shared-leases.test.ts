// Proves the shared-memory leases (src/store/shared-leases.ts) over a real memory tier whose arena
// is a real shared-memory file (src/store/pinned-memory.ts through the addon), read back through a
// second, read-only mapping of that file as a same-host client would (src/native openSharedFile):
// - randomized (seeded mulberry32, two seeds, 1,200 steps each): pages promoted into the arena
//   (evicting others), leases granted to three clients, released, released by the wrong client,
//   expired by a test clock, pages invalidated under a live lease, the global bound reached
//   (answer: stream, no lease) and the per-client bound (KVC_TOO_MANY_LEASES). After every step
//   every live lease's bytes, copied from the file at the offset a client would be told, match
//   its page's crc32c, live leases on different pages never share bytes, and the tier's arena
//   invariants hold; each client holds at most its bound.
// - deterministic: each bad input gets its code and changes nothing else; close releases all.
// - the files: mode 0600, a header with the nonce, removed when the tier closes; a stale file at
//   the path is replaced with a fresh nonce; a directory that cannot hold the file gives a private
//   arena (logged), not a failure.
// Tests that need the addon skip with the reason when it is not built.
import { randomBytes } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import t, { type Test } from 'tap';
import { crc32c, type PageMeta } from '../../src/codec/index.js';
import { nativeStatus, openSharedFile, SHARED_ARENA_HEADER, type SharedFileReader } from '../../src/native/index.js';
import { MemoryTier, pinnedArenaMemory, SharedLeases, sharedArenaPath, type PageLease } from '../../src/store/index.js';
import { prng } from '../codec/prng.js';
import { key, payload } from './helpers.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const NS = 'ns';
const SHM_DIR = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const native = nativeStatus();
const skip = native.loaded ? false : `needs the native addon (${native.reason})`;

function sharedTier(arenaBytes: number, slabBytes: number, log?: (line: string) => void): { tier: MemoryTier; path: string } {
  const config = { dir: SHM_DIR, name: `kvc-test-${process.pid}-${randomBytes(4).toString('hex')}` };
  const memory = pinnedArenaMemory({ arenaBytes, slabBytes, sharedMemory: config, ...(log ? { log } : {}) });
  const tier = new MemoryTier({ memory, slabBytes, slotBytesMin: 4 * KIB });
  return { tier, path: sharedArenaPath(config, 0) };
}

interface TestPage {
  meta: PageMeta;
  data: Uint8Array;
}

function testPage(i: number, bytes: number): TestPage {
  const data = payload(i + 1, bytes);
  return { meta: { ns: NS, key: key(i), dtype: 'u8', shape: [bytes], tokens: 16, bytes, crc32c: crc32c(data), createdAtMs: 1 }, data };
}

/** A read through the tier: a hit, or a miss promoted from `page` (as the store would). */
function read(tier: MemoryTier, page: TestPage): PageLease {
  return tier.get(NS, page.meta.key) ?? tier.finishMiss(tier.startMiss(NS, page.meta.key), page.meta, page.data);
}

interface Live {
  id: number;
  client: string;
  page: number;
  offset: number;
  length: number;
  expiresAtMs: number;
}

function checkLive(t: Test, live: Map<number, Live>, pages: TestPage[], reader: SharedFileReader, step: number): void {
  const ranges = [...live.values()].sort((a, b) => a.offset - b.offset);
  for (const [i, lease] of ranges.entries()) {
    const copy = new Uint8Array(lease.length);
    reader.read(lease.offset, copy);
    if (crc32c(copy) !== pages[lease.page]!.meta.crc32c) t.fail(`step ${step}: lease ${lease.id} on page ${lease.page} reads bytes that fail its crc32c`);
    const next = ranges[i + 1];
    if (next !== undefined && next.page !== lease.page && next.offset < lease.offset + lease.length) {
      t.fail(`step ${step}: leases ${lease.id} (page ${lease.page}) and ${next.id} (page ${next.page}) share bytes`);
    }
  }
}

t.test('randomized: leases, eviction, expiry and releases never let a leased slot be reused', { skip }, async (t) => {
  for (const seed of [1, 2]) {
    const random = prng(seed);
    const pick = (n: number): number => random() % n;
    const { tier, path } = sharedTier(8 * MIB, 256 * KIB);
    const arena = tier.stats().shared!;
    let nowMs = 0;
    const leases = new SharedLeases({ leasesMax: 24, leasesPerClientMax: 12, leaseMs: 1_000, now: () => nowMs });
    const readers = [openSharedFile(path)];
    const pages = Array.from({ length: 160 }, (_, i) => testPage(i, 1 * KIB + pick(120 * KIB)));
    const live = new Map<number, Live>();
    const clients = ['a', 'b', 'c'];
    const counts = { granted: 0, full: 0, tooMany: 0, released: 0, notOwned: 0, unknown: 0, expired: 0, invalidated: 0 };
    for (let step = 0; step < 1_200; step++) {
      const op = pick(100);
      if (op < 50) {
        const index = pick(pages.length);
        const client = clients[pick(clients.length)]!;
        const lease = read(tier, pages[index]!);
        if (!lease.fromTier) {
          lease.release();
          continue;
        }
        let id: number | undefined;
        try {
          id = leases.grant(client, lease);
        } catch (error) {
          t.equal((error as { code?: string }).code, 'KVC_TOO_MANY_LEASES', 'only the per-client bound refuses a grant');
          t.equal(leases.heldBy(client), 12, 'refused exactly at the bound');
          lease.release();
          counts.tooMany++;
          continue;
        }
        if (id === undefined) {
          t.equal(leases.stats().held, 24, 'streamed instead only when every lease is taken');
          lease.release();
          counts.full++;
          continue;
        }
        counts.granted++;
        const offset = arena.files[lease.location!.region]!.dataOffset + lease.location!.offset;
        live.set(id, { id, client, page: index, offset, length: lease.data.byteLength, expiresAtMs: nowMs + 1_000 });
      } else if (op < 70 && live.size > 0) {
        const lease = [...live.values()][pick(live.size)]!;
        if (pick(4) === 0) {
          const other = clients.find((c) => c !== lease.client)!;
          t.throws(() => leases.release(other, [lease.id]), { code: 'KVC_LEASE_NOT_OWNED' });
          t.ok(leases.has(lease.id), 'a release by another client leaves the lease live');
          counts.notOwned++;
        } else {
          leases.release(lease.client, [lease.id]);
          live.delete(lease.id);
          counts.released++;
        }
      } else if (op < 80) {
        nowMs += pick(600);
        leases.expire();
        for (const lease of live.values()) {
          if (lease.expiresAtMs > nowMs) continue;
          t.notOk(leases.has(lease.id), `lease ${lease.id} expired on time`);
          live.delete(lease.id);
          counts.expired++;
        }
      } else if (op < 90) {
        tier.invalidate(NS, [pages[pick(pages.length)]!.meta.key]);
        counts.invalidated++;
      } else if (op < 95) {
        const client = clients[pick(clients.length)]!;
        t.throws(() => leases.release(client, [10_000_000 + step]), { code: 'KVC_LEASE_UNKNOWN' });
        counts.unknown++;
      } else if (readers.length === 1) {
        // A second reader on the pread fallback: both must read the same bytes.
        readers.push(openSharedFile(path));
      }
      for (const reader of readers) checkLive(t, live, pages, reader, step);
      tier.checkInvariants();
      for (const client of clients) if (leases.heldBy(client) > 12) t.fail(`client ${client} holds ${leases.heldBy(client)} leases`);
    }
    t.ok(counts.granted > 200 && counts.expired > 10 && counts.released > 50 && counts.full + counts.tooMany > 0, `seed ${seed}: the run exercised every path ${JSON.stringify(counts)}`);
    t.ok(tier.stats().evictions > 50, `seed ${seed}: pages were evicted (${tier.stats().evictions})`);
    leases.close();
    t.equal(tier.stats().leasesHeld, 0, 'close released every lease');
    tier.close();
    t.notOk(existsSync(path), 'the file is removed when the tier closes');
    for (const reader of readers) reader.close();
  }
});

t.test('bad input: unknown, expired and foreign ids, the bounds; releases of good ids still happen', { skip }, async (t) => {
  const { tier } = sharedTier(4 * MIB, 256 * KIB);
  t.teardown(() => tier.close());
  let nowMs = 0;
  const leases = new SharedLeases({ leasesMax: 3, leasesPerClientMax: 2, leaseMs: 100, now: () => nowMs });
  const pages = [0, 1, 2, 3].map((i) => testPage(i, 8 * KIB));
  const a1 = leases.grant('a', read(tier, pages[0]!))!;
  const a2 = leases.grant('a', read(tier, pages[1]!))!;
  const third = read(tier, pages[2]!);
  t.throws(() => leases.grant('a', third), { code: 'KVC_TOO_MANY_LEASES' }, 'a third lease for one client is refused');
  const b1 = leases.grant('b', third)!;
  const fourth = read(tier, pages[3]!);
  t.equal(leases.grant('c', fourth), undefined, 'every lease taken: stream instead');
  fourth.release();
  t.throws(() => leases.release('b', [a1, b1]), { code: 'KVC_LEASE_NOT_OWNED' }, 'a foreign id fails the call');
  t.notOk(leases.has(b1), 'the caller\'s own id in the same call was released');
  t.ok(leases.has(a1), 'the foreign one was not');
  t.throws(() => leases.release('a', [a1, 999]), { code: 'KVC_LEASE_UNKNOWN' }, 'an unknown id fails the call');
  t.notOk(leases.has(a1), 'the good id was released all the same');
  t.throws(() => leases.release('a', [a1]), { code: 'KVC_LEASE_UNKNOWN' }, 'a second release of one id');
  nowMs += 100;
  t.throws(() => leases.release('a', [a2]), { code: 'KVC_LEASE_UNKNOWN' }, 'an expired id');
  t.match(leases.stats(), { held: 0, granted: 3, released: 2, expired: 1, refusedFull: 1 });
  t.equal(tier.stats().leasesHeld, 0, 'every tier lease came back');
  leases.close();
  t.equal(leases.grant('a', read(tier, pages[0]!)), undefined, 'a closed registry grants nothing');
});

t.test('the files: mode 0600, the nonce in the header, a stale file replaced, an unusable directory gives a private arena', { skip }, async (t) => {
  const name = `kvc-test-${process.pid}-stale`;
  const config = { dir: SHM_DIR, name };
  const path = sharedArenaPath(config, 0);
  writeFileSync(path, 'left by a crashed member');
  const memory = pinnedArenaMemory({ arenaBytes: 4 * MIB, slabBytes: 256 * KIB, sharedMemory: config });
  const tier = new MemoryTier({ memory });
  t.equal(statSync(path).mode & 0o777, 0o600, 'mode 0600');
  const reader = openSharedFile(path);
  const header = new Uint8Array(64);
  reader.read(0, header);
  t.equal(Buffer.from(header.subarray(0, 8)).toString(), 'KVCARENA', 'the header replaced the stale bytes');
  const nonce = tier.stats().shared!.nonce;
  t.same(header.subarray(SHARED_ARENA_HEADER.offsets.nonce, SHARED_ARENA_HEADER.offsets.nonce + 16), nonce, 'the header holds the nonce');
  reader.close();
  tier.close();
  t.notOk(existsSync(path), 'removed at close');

  const again = new MemoryTier({ memory: pinnedArenaMemory({ arenaBytes: 4 * MIB, slabBytes: 256 * KIB, sharedMemory: config }) });
  t.notSame(again.stats().shared!.nonce, nonce, 'a new start draws a new nonce');
  again.close();

  const logs: string[] = [];
  const memoryElsewhere = pinnedArenaMemory({ arenaBytes: 4 * MIB, slabBytes: 256 * KIB, sharedMemory: { dir: '/nonexistent-kvc-dir', name }, log: (line) => logs.push(line) });
  const privateTier = new MemoryTier({ memory: memoryElsewhere });
  t.equal(privateTier.stats().shared, null, 'not shared');
  t.equal(privateTier.stats().arenaBytes, 4 * MIB, 'but the arena is there');
  t.match(logs.join('\n'), /not shared.*ENOENT/, 'and the log says why');
  privateTier.close();
});
