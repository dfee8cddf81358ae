// Proves `kvc profile` and AdminService.Profile: a real member takes a 1 s CPU profile of its
// main thread and streams it back as .cpuprofile JSON (nodes, samples, times), which the CLI
// writes to a file; out-of-range seconds are KVC_INVALID_ARGUMENT, a second profile while one runs
// is KVC_BUSY, and with an admin token set a call without it is KVC_UNAUTHENTICATED.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { runKvc } from '../cli/helpers.js';
import { startCluster } from './helpers.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

t.test('a member profiles itself for a bounded time, one profile at a time', async (t) => {
  const cluster = await startCluster([1], { adminToken: 'tok' });
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new KvcClient({ endpoints: [member.address], adminToken: 'tok', retries: 0 });
  t.teardown(() => client.close());

  const running = client.profile(member.address, 1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await t.rejects(client.profile(member.address, 1), { code: 'KVC_BUSY' }, 'one profile at a time');
  const profile = JSON.parse(Buffer.from(await running).toString('utf8')) as CpuProfile;
  t.ok(profile.nodes.length > 0 && profile.samples.length > 0, 'a profile with samples');
  t.ok(profile.endTime - profile.startTime >= 900_000, 'about one second long (microseconds)');

  await t.rejects(client.profile(member.address, 0), { code: 'KVC_INVALID_ARGUMENT' });
  await t.rejects(client.profile(member.address, 61), { code: 'KVC_INVALID_ARGUMENT' });
  const anonymous = new KvcClient({ endpoints: [member.address], retries: 0 });
  t.teardown(() => anonymous.close());
  await t.rejects(anonymous.profile(member.address, 1), { code: 'KVC_UNAUTHENTICATED' });

  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-profile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'm1.cpuprofile');
  const cli = await runKvc(['profile', '--endpoints', member.address, '--token', 'tok', '--member', '1', '--seconds', '1', '--out', out, '--json']);
  t.equal(cli.code, 0, cli.stderr);
  t.match(JSON.parse(cli.stdout), { member: 1, seconds: 1, out });
  t.ok((JSON.parse(await readFile(out, 'utf8')) as CpuProfile).samples.length > 0, 'the file is a profile');
  const missing = await runKvc(['profile', '--endpoints', member.address, '--token', 'tok', '--member', '9', '--out', out]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no member 9 among the members the endpoints report \(1\)/);
});
