// Proves that a member says whether it reads blob payloads past the page cache, and how it appends
// to its WAL and blob files (src/io): Status.direct_io is enabled with no reason here (this
// machine's temp filesystem takes O_DIRECT) and appends 'dropped', the Prometheus gauge
// kvc_direct_io is 1; with direct I/O turned off for the process it is disabled with the reason,
// the gauge 0, and `kvc status` prints a note line for the member; with appends asked 'direct'
// while direct I/O is off, Status says they are 'dropped' and why, and so does `kvc status`. One
// in-process member (the switches are per process, and tap runs each test file in its own).
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { directIoStatus, setAppendMode, setDirectIo } from '../../src/io/index.js';
import { startCluster } from '../rpc/helpers.js';
import { runKvc } from './helpers.js';

t.test('Status, the gauge and kvc status say whether files go past the page cache', async (t) => {
  t.same(directIoStatus(), { enabled: true, reason: '', appends: 'dropped', appendsReason: '' }, 'on by default here, appends dropped');
  const cluster = await startCluster([1], { metricsAddress: '127.0.0.1:0' });
  t.teardown(() => {
    setDirectIo(true);
    setAppendMode('dropped');
    return cluster.stopAll();
  });
  await cluster.leader();
  const endpoint = cluster.addresses.get(1)!;
  const client = new KvcClient({ endpoints: [endpoint] });
  t.teardown(() => client.close());

  const on = await client.status(endpoint);
  t.same(on.directIo, { enabled: true, reason: '', appends: 'dropped', appendsReason: '' }, 'Status: enabled, appends dropped');
  t.match(await (await fetch(on.metricsUrl)).text(), /^kvc_direct_io\{member="1"\} 1$/m, 'gauge 1');
  const quiet = await runKvc(['status', '--endpoints', endpoint]);
  t.equal(quiet.code, 0, quiet.stderr);
  t.notMatch(quiet.stdout, /through the page cache/, 'no note while on');

  setDirectIo(false);
  const off = await client.status(endpoint);
  t.same(off.directIo, { enabled: false, reason: 'off', appends: 'dropped', appendsReason: '' }, 'Status: disabled, with the reason');
  t.match(await (await fetch(off.metricsUrl)).text(), /^kvc_direct_io\{member="1"\} 0$/m, 'gauge 0');
  const human = await runKvc(['status', '--endpoints', endpoint]);
  t.match(human.stdout, /member 1: blob payloads read through the page cache \(no direct I\/O\): off/, 'kvc status notes it');
  t.notMatch(human.stdout, /appends/, 'appends as asked: no note');
  const json = await runKvc(['status', '--endpoints', endpoint, '--json']);
  const view = JSON.parse(json.stdout) as { members: { directIo: boolean; directIoReason: string }[] };
  t.same([view.members[0]!.directIo, view.members[0]!.directIoReason], [false, 'off'], 'and its JSON');

  setAppendMode('direct');
  const refused = await client.status(endpoint);
  t.same(refused.directIo, { enabled: false, reason: 'off', appends: 'dropped', appendsReason: 'not direct: off' }, "Status: appends asked 'direct' are 'dropped', and why");
  const noted = await runKvc(['status', '--endpoints', endpoint]);
  t.match(noted.stdout, /member 1: WAL and blob appends 'dropped': not direct: off/, 'kvc status notes it');
  const refusedJson = JSON.parse((await runKvc(['status', '--endpoints', endpoint, '--json'])).stdout) as { members: { appends: string; appendsReason: string }[] };
  t.same([refusedJson.members[0]!.appends, refusedJson.members[0]!.appendsReason], ['dropped', 'not direct: off'], 'and its JSON');
});
