// Proves that a member says whether its WAL and blob files go past the page cache (src/io):
// Status.direct_io is enabled with no reason here (this machine's temp filesystem takes O_DIRECT),
// the Prometheus gauge kvc_direct_io is 1; with direct I/O turned off for the process it is
// disabled with the reason, the gauge 0, and `kvc status` prints a note line for the member. One
// in-process member (the switch is per process, and tap runs each test file in its own).
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { directIoStatus, setDirectIo } from '../../src/io/index.js';
import { startCluster } from '../rpc/helpers.js';
import { runKvc } from './helpers.js';

t.test('Status, the gauge and kvc status say whether files go past the page cache', async (t) => {
  t.same(directIoStatus(), { enabled: true, reason: '' }, 'on by default here');
  const cluster = await startCluster([1], { metricsAddress: '127.0.0.1:0' });
  t.teardown(() => {
    setDirectIo(true);
    return cluster.stopAll();
  });
  await cluster.leader();
  const endpoint = cluster.addresses.get(1)!;
  const client = new KvcClient({ endpoints: [endpoint] });
  t.teardown(() => client.close());

  const on = await client.status(endpoint);
  t.same(on.directIo, { enabled: true, reason: '' }, 'Status: enabled');
  t.match(await (await fetch(on.metricsUrl)).text(), /^kvc_direct_io\{member="1"\} 1$/m, 'gauge 1');
  const quiet = await runKvc(['status', '--endpoints', endpoint]);
  t.equal(quiet.code, 0, quiet.stderr);
  t.notMatch(quiet.stdout, /through the page cache/, 'no note while on');

  setDirectIo(false);
  const off = await client.status(endpoint);
  t.same(off.directIo, { enabled: false, reason: 'off' }, 'Status: disabled, with the reason');
  t.match(await (await fetch(off.metricsUrl)).text(), /^kvc_direct_io\{member="1"\} 0$/m, 'gauge 0');
  const human = await runKvc(['status', '--endpoints', endpoint]);
  t.match(human.stdout, /member 1: WAL and blob files through the page cache \(no direct I\/O\): off/, 'kvc status notes it');
  const json = await runKvc(['status', '--endpoints', endpoint, '--json']);
  const view = JSON.parse(json.stdout) as { members: { directIo: boolean; directIoReason: string }[] };
  t.same([view.members[0]!.directIo, view.members[0]!.directIoReason], [false, 'off'], 'and its JSON');
});
