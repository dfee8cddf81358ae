// Proves that a member says whether it keeps large payloads in its WAL (the value log): Status has
// value_log true, no note, and counts the WAL segments linked into its blob folder once a large page
// is stored (so do the gauges kvc_value_log and kvc_blob_wal_files); a member with the value log
// off says so with the reason, and `kvc status` prints a note line for it. One in-process member
// per case.
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { putPages, RawClient, startCluster, u8Page } from '../rpc/helpers.js';
import { runKvc } from './helpers.js';

const BYTES = 100 * 1024;

for (const on of [true, false]) {
  t.test(`Status and kvc status with the value log ${on ? 'on (the default)' : 'off'}`, async (t) => {
    const cluster = await startCluster([1], { metricsAddress: '127.0.0.1:0', node: { tickMs: 10, fsync: false, ...(on ? {} : { payloadsInWal: false }) } });
    t.teardown(() => cluster.stopAll());
    const leader = await cluster.leader();
    const writer = new RawClient(leader.address);
    t.teardown(() => writer.close());
    await putPages(writer, [u8Page(1, BYTES)]);
    const client = new KvcClient({ endpoints: [leader.address] });
    t.teardown(() => client.close());
    const status = await client.status(leader.address);
    const human = await runKvc(['status', '--endpoints', leader.address]);
    const metrics = await (await fetch(status.metricsUrl)).text();
    t.match(metrics, new RegExp(`^kvc_value_log\\{member="1"\\} ${on ? 1 : 0}$`, 'm'), `the gauge kvc_value_log is ${on ? 1 : 0}`);
    t.match(metrics, new RegExp(`^kvc_blob_wal_files\\{member="1"\\} ${on ? 1 : 0}$`, 'm'), 'kvc_blob_wal_files counts the linked segment');
    t.equal(human.code, 0, human.stderr);
    if (on) {
      t.same([status.valueLog, status.valueLogNote], [true, ''], 'Status: on, no note');
      t.equal(status.blobWalFiles, 1, 'the WAL segment holding the page is linked into the blob folder');
      t.equal(status.blobFiles, 1, 'and is the only blob file');
      t.notMatch(human.stdout, /value log/, 'kvc status: no note');
    } else {
      t.equal(status.valueLog, false, 'Status: off');
      t.match(status.valueLogNote, /^off: the member config turns it off/, 'with the reason');
      t.equal(status.blobWalFiles, 0, 'no WAL segment linked in');
      t.match(human.stdout, /member 1: value log off: the member config turns it off/, 'kvc status notes it');
    }
  });
}
