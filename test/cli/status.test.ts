// Proves `kvc status` and `kvc status --watch`, run in this process through the real command
// (registerStatus, runProgram) with stdout captured, against an in-process cluster of two members
// on 127.0.0.1 where only member 1 serves /metrics and the arena is shared when the addon is
// built: the human output has the Watch feed and shared-memory table (Status fields 42-44 and the
// shm fields), --json and --digest carry them; `--watch --count N --json` prints N JSON lines whose
// rates, from two scrapes of member 1's /metrics, count the pages put and read and the lookups
// made meanwhile, while member 2 says why it has none; the human --watch frame has the rates
// table; --count without --watch and a bad --interval are usage errors. The rate arithmetic and
// the Prometheus text parser are checked on their own too (a restarted member, escaped labels).
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { KvcClient } from '../../src/client/index.js';
import { registerStatus } from '../../src/cli/commands/status.js';
import { countersOf, parseMetrics, ratesBetween, sumOf, type MemberRates } from '../../src/cli/member-rates.js';
import { nativeStatus } from '../../src/native/index.js';
import { startCluster } from '../rpc/helpers.js';
import { childEnv, runKvcInProcess } from './helpers.js';

const MIB = 1024 * 1024;
const PAGE_BYTES = 64 * 1024;
const NS = 'status-cli';
const SHARED = nativeStatus().loaded;
const SHM_DIR = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** Runs `kvc status ...args` in this process: its exit status, stdout and stderr. */
function kvcStatus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runKvcInProcess(registerStatus, ['status', ...args]);
}

interface FrameMember {
  id: number;
  rates: MemberRates | null;
  ratesNote: string;
}

t.test('kvc status: watch feed and shared memory; --watch with rates from /metrics', async (t) => {
  const memoryTier = SHARED ? { arenaBytes: 16 * MIB, sharedMemory: { dir: SHM_DIR } } : { arenaBytes: 16 * MIB };
  const cluster = await startCluster([1, 2], { memoryTier }, (id) => (id === 1 ? { metricsAddress: '127.0.0.1:0' } : {}));
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const E = ['--endpoints', [...cluster.addresses.values()].join(',')];
  // Every call to member 1, whose /metrics the rates come from.
  const client = new KvcClient({ endpoints: [cluster.addresses.get(1)!], deadlineMs: 10_000 });
  t.teardown(() => client.close());
  const key = (i: number): Uint8Array => new Uint8Array(16).fill(i);
  const page = (i: number) => ({ meta: { namespace: NS, key: key(i), dtype: 'u8' as const, shape: [PAGE_BYTES], tokens: 16 }, data: new Uint8Array(PAGE_BYTES).fill(i) });
  if (leader.node.id !== 1) await client.transferLeader(1);
  await client.putPages([page(1)]);

  const human = await kvcStatus(...E);
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /\nID\s+WATCH FROM\s+RING EVENTS\s+RING BYTES\s+WATCHERS\s+SHM FILES\s+SHM BYTES\s+LEASES\s+GRANTED\s+EXPIRED\s+STREAMED \(FULL\)\n/, 'a table of the watch feed and shared memory');
  t.match(human.stdout, SHARED ? /\n\s*1\s+1\s+\d+\s+[\d.]+ \w?B\s+0\s+1\s+[\d.]+ MiB\s+0\/\d+\s+0\s+0\s+0\n/ : /\n\s*1\s+1\s+\d+\s+[\d.]+ \w?B\s+0\s+off(\s+-){5}\n/, 'member 1: watch from index 1, its ring, no watchers; its shared arena');

  const digest = await kvcStatus(...E, '--json', '--digest');
  const members = (JSON.parse(digest.stdout) as { members: { id: number; watch: unknown; pagesDigest: string; pagesDigestIndex: number; sharedMemory: unknown }[] }).members;
  t.match(members[0], { id: 1, watch: { oldestIndex: 1, watchers: 0 }, pagesDigest: /^[0-9a-f]{64}$/, pagesDigestIndex: Number }, '--json --digest: the watch feed and the page-set digest');
  t.match(members[0]!.sharedMemory, SHARED ? { files: [{ path: /kvc-n1-/ }], leasesMax: Number } : null, 'and the shared-memory files, when the arena is shared');
  const digestHuman = await kvcStatus(...E, '--digest');
  t.match(digestHuman.stdout, /DIGEST\s+PAGES DIGEST\n[^\n]*\b[0-9a-f]{12}\s+[0-9a-f]{12}@\d+\n/, '--digest: both digests in the table');

  // Traffic while --watch runs: one put, one read and one lookup of two keys (one found) per round.
  let watching = true;
  let rounds = 0;
  const traffic = (async () => {
    for (let i = 2; watching && i < 200; i++, rounds++) {
      await client.putPages([page(i)]);
      // Pinned: the client learns member 2 from Status answers and may read from it otherwise.
      for await (const _ of client.getPages(NS, [key(i)], { endpoint: cluster.addresses.get(1)! })) void _;
      await client.lookup(NS, [key(i), key(255)]);
    }
  })();
  const watched = await kvcStatus(...E, '--watch', '--interval', '0.3', '--count', '3', '--json');
  watching = false;
  await traffic;
  t.equal(watched.code, 0, watched.stderr);
  const frames = watched.stdout.trim().split('\n').map((line) => JSON.parse(line) as { time: string; intervalS: number; members: FrameMember[] });
  t.equal(frames.length, 3, '--count 3: three JSON lines');
  t.ok(frames.every((f) => f.intervalS === 0.3 && f.members.length === 2), 'each frame has every member');
  const rated = frames.map((f) => f.members.find((m) => m.id === 1)!.rates!);
  t.ok(rated.every((r) => r !== null && r.windowS > 0.2), 'member 1 has rates in every frame, over about one interval');
  const total = (pick: (r: MemberRates) => number): number => Math.round(rated.reduce((sum, r) => sum + pick(r) * r.windowS, 0));
  t.ok(rounds > 0 && total((r) => r.putsPerSec) > 0, `pages put counted (${rounds} rounds)`);
  t.ok(total((r) => r.putsPerSec) <= rounds + 1 && total((r) => r.getsPerSec) <= rounds + 1, 'never more than were made');
  t.equal(total((r) => r.mbInPerSec * 1e6), total((r) => r.putsPerSec) * PAGE_BYTES, 'MB/s in: the payload bytes of those pages');
  t.ok(total((r) => r.getsPerSec) > 0, 'pages read counted');
  t.equal(total((r) => r.mbOutPerSec * 1e6), total((r) => r.getsPerSec) * PAGE_BYTES, 'MB/s out: the payload bytes of those pages');
  t.ok(rated.some((r) => r.lookupHitRatio !== null && r.lookupHitRatio > 0.4 && r.lookupHitRatio < 0.6), 'lookup hit ratio: one key of two found');
  t.match(frames[0]!.members.find((m) => m.id === 2), { rates: null, ratesNote: /no metrics listener/ }, 'member 2 serves no metrics, and says so');

  const frame = await kvcStatus(...E, '--watch', '--interval', '0.1', '--count', '1');
  t.equal(frame.code, 0, frame.stderr);
  t.match(frame.stdout, /^kvc status {2}\S+ {2}\(every 0\.1 s, 1 frames\)\n/, 'a human frame: its header');
  t.match(frame.stdout, /\nID\s+PUTS\/S\s+GETS\/S\s+MB\/S IN\s+MB\/S OUT\s+LOOKUP HIT%\n\s*1\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(-|[\d.]+%)\n\s*2(\s+-){5}\n/, 'the rates table');
  t.match(frame.stdout, /member 2: no rates: no metrics listener/);

  // `kvc status | head -1`: the reader is gone before kvc writes, every line after fails with
  // EPIPE; the real kvc process ends quietly (before: a stack trace of an unhandled 'error').
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../bin/kvc.js', import.meta.url)), 'status', ...E], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  t.equal(stderr, '', 'a closed stdout: no stack, no message');
  t.equal(code, 0);
});

t.test('status usage errors', async (t) => {
  const count = await kvcStatus('--count', '2');
  t.equal(count.code, 2, '--count without --watch');
  t.match(count.stderr, /--count counts the frames of --watch/);
  const interval = await kvcStatus('--watch', '--interval', '0');
  t.equal(interval.code, 2, '--interval 0');
  t.match(interval.stderr, /expected seconds from 0\.1 to 60/);
});

t.test('rates from two scrapes', async (t) => {
  const text = [
    '# HELP kvc_transfer_pages_total x',
    '# TYPE kvc_transfer_pages_total counter',
    'kvc_transfer_pages_total{member="1",direction="in"} 10',
    'kvc_transfer_pages_total{member="1",direction="out"} 4',
    'kvc_transfer_bytes_total{member="1",direction="in"} 2000000',
    'kvc_transfer_bytes_total{member="1",direction="out"} 0',
    'kvc_lookup_keys_total{member="1",namespace="a \\"b\\", c"} 8',
    'kvc_lookup_hits_total{member="1",namespace="a \\"b\\", c"} 6',
    'kvc_lookup_keys_total{member="1",namespace="d"} 2',
    'not a sample line',
    'kvc_odd NaN',
  ].join('\n');
  const samples = parseMetrics(text);
  t.same(samples.find((s) => s.name === 'kvc_lookup_hits_total')?.labels, { member: '1', namespace: 'a "b", c' }, 'escaped label values');
  t.equal(sumOf(samples, 'kvc_lookup_keys_total'), 10, 'summed over namespaces');
  t.equal(samples.some((s) => s.name === 'kvc_odd' || s.name === 'not'), false, 'malformed lines skipped');
  const before = countersOf(samples, 0);
  const after = { ...before, atMs: 2_000, pagesIn: 30, bytesIn: 6_000_000, lookupKeys: 14, lookupHits: 8 };
  t.same(ratesBetween(before, after), { putsPerSec: 10, getsPerSec: 0, mbInPerSec: 2, mbOutPerSec: 0, lookupHitRatio: 0.5, windowS: 2 });
  const restarted = { ...after, atMs: 4_000, pagesIn: 3, bytesIn: 0, lookupKeys: 14, lookupHits: 8 };
  t.match(ratesBetween(after, restarted), { putsPerSec: 1.5, lookupHitRatio: null }, 'a counter that went down counts from zero; no lookups: no ratio');
});
