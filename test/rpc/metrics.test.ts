// Proves a member's Prometheus endpoint (src/metrics): a real member with metricsAddress
// 127.0.0.1:0 serves GET /metrics in the text format, says where in Status (and `kvc status
// --json`), and the figures move with traffic: gRPC calls by method and outcome (a bad request
// counted under its KVC_* code), WAL saves, proposals, the leader change, pages per namespace,
// lookups, memory-tier hits, pages and payload bytes in (PutPages) and out (GetPages), an
// event-loop stall, plus prom-client's process and Node.js metrics. Anything but
// GET /metrics is a 404, and the listener closes with the member.
import t from 'tap';
import { gatherClusterView } from '../../src/cli/cluster-status.js';
import { parseMetrics } from '../../src/cli/member-rates.js';
import { NS, RawClient, type CallError, eventually, pageKey, putPages, startCluster, u8Page } from './helpers.js';

const KIB = 1024;

/** Sample value of `name` with exactly these labels (member label aside); 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = parseMetrics(text).find((s) => {
    if (s.name !== name) return false;
    const { member: _member, ...rest } = s.labels;
    return JSON.stringify(Object.entries(rest).sort()) === wanted;
  });
  return found?.value ?? 0;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
  return response.text();
}

t.test('a live member exports metrics that move with its traffic', async (t) => {
  const cluster = await startCluster([1], { metricsAddress: '127.0.0.1:0' });
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new RawClient(member.address);
  t.teardown(() => client.close());

  const view = await gatherClusterView([member.address]);
  const url = view.members[0]!.metricsUrl!;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'Status says where the metrics are');
  const before = await scrape(url);
  t.match(before, /# TYPE kvc_grpc_requests_total counter/);
  t.ok(sample(before, 'kvc_leader_changes_total') >= 1, 'the election counted');
  t.ok(sample(before, 'kvc_raft_is_leader') === 1 && sample(before, 'kvc_raft_term') >= 1, 'Raft state');
  t.ok(sample(before, 'process_resident_memory_bytes') > 0, 'prom-client process metrics');
  t.match(before, /nodejs_eventloop_lag_seconds/, 'and Node.js ones');
  t.match(before, /kvc_snapshot_install_seconds_count\{[^}]*\} 0|# TYPE kvc_snapshot_install_seconds histogram/, 'snapshot histograms exist');

  const pages = [1, 2, 3].map((i) => u8Page(i, 96 * KIB));
  await putPages(client, pages);
  await client.unary('cache', 'Lookup', { namespace: NS, keys: [pageKey(1), pageKey(2), pageKey(9)] });
  for (let i = 0; i < 2; i++) await client.serverStream('cache', 'GetPages', { namespace: NS, keys: [pageKey(1)] });
  const bad = await client.unary('cache', 'Lookup', { namespace: NS, keys: [new Uint8Array(3)] }).catch((error: CallError) => error);
  t.match(bad, { kvcCode: 'KVC_INVALID_KEY' }, 'a key that is too short is refused');

  const after = await scrape(url);
  t.equal(sample(after, 'kvc_grpc_requests_total', { method: 'PutPages', code: 'OK' }), 1, 'one PutPages call');
  t.equal(sample(after, 'kvc_grpc_requests_total', { method: 'Lookup', code: 'OK' }), 1, 'one good Lookup');
  t.equal(sample(after, 'kvc_grpc_requests_total', { method: 'Lookup', code: 'KVC_INVALID_KEY' }), 1, 'the bad one under its code');
  t.equal(sample(after, 'kvc_grpc_requests_total', { method: 'GetPages', code: 'OK' }), 2);
  t.equal(sample(after, 'kvc_grpc_request_seconds_count', { method: 'Lookup' }), 2, 'latency histogram per method');
  t.equal(sample(after, 'kvc_transfer_pages_total', { direction: 'in' }), 3, 'pages received by PutPages');
  t.equal(sample(after, 'kvc_transfer_bytes_total', { direction: 'in' }), 3 * 96 * KIB, 'and their payload bytes');
  t.equal(sample(after, 'kvc_transfer_pages_total', { direction: 'out' }), 2, 'pages sent by GetPages');
  t.equal(sample(after, 'kvc_transfer_bytes_total', { direction: 'out' }), 2 * 96 * KIB);
  t.ok(sample(after, 'kvc_wal_save_seconds_count', { synced: 'true' }) > sample(before, 'kvc_wal_save_seconds_count', { synced: 'true' }), 'WAL saves');
  t.ok(sample(after, 'kvc_wal_entry_bytes_total') >= sample(before, 'kvc_wal_entry_bytes_total') + 3 * 96 * KIB, 'WAL bytes');
  t.ok(sample(after, 'kvc_proposal_seconds_count', { outcome: 'applied' }) >= 3, 'proposals applied');
  t.equal(sample(after, 'kvc_namespace_pages', { namespace: NS }), 3, 'pages per namespace');
  t.equal(sample(after, 'kvc_namespace_bytes', { namespace: NS }), 3 * 96 * KIB);
  t.equal(sample(after, 'kvc_lookup_keys_total', { namespace: NS }), 3);
  t.equal(sample(after, 'kvc_lookup_hits_total', { namespace: NS }), 2, 'the matched prefix');
  t.equal(sample(after, 'kvc_lookup_misses_total', { namespace: NS }), 1);
  t.ok(sample(after, 'kvc_memory_tier_hits_total') >= 1, 'the second read hit the memory tier');
  t.ok(sample(after, 'kvc_raft_applied_index') > sample(before, 'kvc_raft_applied_index'), 'applied index moved');
  t.ok(sample(after, 'kvc_blob_bytes') >= 3 * 96 * KIB, 'pages of 96 KiB went to blob files');
  t.equal(sample(await scrape(url), 'kvc_lookup_keys_total', { namespace: NS }), 3, 'counters read as totals do not double on a second scrape');
  // A sole member has applied everything it holds: its WAL keeps no entry in memory.
  await eventually(async () => sample(await scrape(url), 'kvc_wal_cached_bytes') === 0, 5_000, 'the WAL entry cache to be released');
  t.pass('applied entries every member has leave the WAL entry cache');

  // A stall: the loop held for 0.6 s, longer than half an election timeout. Counted as busy or,
  // on a loaded machine that did not give the process a CPU meanwhile, as starved.
  const stallSeconds = (text: string): number => sample(text, 'kvc_event_loop_stall_seconds_sum', { cause: 'busy' }) + sample(text, 'kvc_event_loop_stall_seconds_sum', { cause: 'starved' });
  const stalledBefore = stallSeconds(await scrape(url));
  // Two stalls in a row: the second is not logged (one line per 10 s) but still counted.
  for (const ms of [600, 400]) {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // Busy on purpose: nothing else may run.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.ok(stallSeconds(await scrape(url)) >= stalledBefore + 0.9, 'both blocked stretches of the event loop are counted as stalls');

  t.equal((await fetch(url.replace('/metrics', '/other'))).status, 404, 'only /metrics is served');
  await member.stop();
  await t.rejects(fetch(url), 'the listener closes with the member');
});
