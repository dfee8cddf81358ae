// The Watch feed over real processes: 3 `kvc start` members (default timing), a watcher whose
// client reaches each member only through a TCP proxy in this process, and writes running. The
// watcher's connection is reset by its proxy (network dropped), the member it reads from is
// killed with SIGKILL and restarted (a leader change when it led), and the client is closed
// mid-feed and a new one resumes from the last index seen + 1. The concatenated feed holds every
// change once, in log order, and the page set it rebuilds from a listing equals each member's
// (Status pages_digest at the same applied index). `kvc watch --json --count` runs beside it and
// prints one object per change.
import t from 'tap';
import { KvcClient, pageSetDigest, type WatchEvent } from '../../src/client/index.js';
import { TcpProxy } from '../../src/chaos/proxy.js';
import { NS, e2eKey, e2ePage, runKvc, sleep, startProcessCluster } from './helpers.js';

const PAGE_BYTES = 4 * 1024;
const WAIT_MS = 20_000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('a cut watcher resumes and sees every change once, in order', async (t) => {
  const cluster = await startProcessCluster(3);
  t.teardown(() => cluster.teardown());
  const proxies = new Map<number, TcpProxy>();
  for (const [id, address] of cluster.addresses) {
    const proxy = new TcpProxy({ target: address, name: `watch->n${id}` });
    await proxy.listen();
    proxies.set(id, proxy);
  }
  t.teardown(() => Promise.all([...proxies.values()].map((p) => p.close())));
  const memberOf = (endpoint: string): number => [...proxies].find(([, p]) => p.address === endpoint)![0];
  const admin = new KvcClient({ endpoints: cluster.endpoints(), deadlineMs: 5_000, retries: 20 });
  t.teardown(() => admin.close());

  const listing = await admin.listAllPages();
  const pages = new Map(listing.pages.map((p) => [`${p.namespace}/${hex(p.key)}`, p]));
  const events: WatchEvent[] = [];
  let progress = 0;
  const apply = (e: WatchEvent): void => {
    events.push(e);
    if (e.type === 'progress') progress = Math.max(progress, e.index);
    else if (e.type === 'stored') pages.set(`${e.namespace}/${hex(e.key)}`, e);
    else if (e.type === 'removed') pages.delete(`${e.namespace}/${hex(e.key)}`);
  };
  let next = listing.watchFromIndex;
  const resumes: string[] = [];
  const startWatcher = (): { client: KvcClient; done: Promise<void> } => {
    const client = new KvcClient({ endpoints: [...proxies.values()].map((p) => p.address), backoffMaxMs: 500 });
    const done = (async () => {
      for await (const e of client.watch({ fromIndex: next, onResume: (r) => resumes.push(r.error.code) })) {
        apply(e);
        next = e.index + 1;
      }
    })().catch(() => undefined); // Ends with "the client is closed" when closed mid-feed.
    return { client, done };
  };
  let watcher = startWatcher();

  // `kvc watch` beside it: one JSON object per change, then it exits at --count.
  const cli = runKvc(['watch', '--json', '--from', String(listing.watchFromIndex), '--count', '10', '--no-progress', '--endpoints', cluster.endpoints().join(',')], { timeoutMs: WAIT_MS });

  let written = 0;
  const put = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++, written++) await admin.putPages([e2ePage(written, PAGE_BYTES)]);
  };
  await put(20);
  await admin.deletePages(NS, [e2eKey(0), e2eKey(1)]);
  await until(() => events.some((e) => e.type === 'removed'), 'the deletes on the feed');

  // Network dropped: the proxy of the member the watcher reads from resets its connections.
  const dropped = memberOf(events.at(-1)!.endpoint);
  proxies.get(dropped)!.block('reset');
  await put(10);
  proxies.get(dropped)!.unblock();
  await until(() => events.some((e) => e.type !== 'progress' && memberOf(e.endpoint) !== dropped), 'the feed from another member');

  // Member killed: the one the watcher reads from now (it may lead: then leadership moves).
  const killed = memberOf(events.at(-1)!.endpoint);
  await cluster.kill(killed);
  await put(10);
  await cluster.start(killed);
  await until(() => events.some((e) => e.type !== 'progress' && memberOf(e.endpoint) !== killed && e.index > 0), 'the feed after the kill');

  // Client closed mid-feed: a new client resumes from the last index seen + 1.
  watcher.client.close();
  await watcher.done;
  await put(10);
  watcher = startWatcher();
  await put(10);
  await admin.deletePages(NS, [e2eKey(30)]);

  const members = [...cluster.addresses.keys()];
  await until(async () => {
    const applied = await Promise.all(members.map(async (id) => (await admin.status(cluster.addresses.get(id)!)).appliedIndex));
    return applied.every((a) => a === applied[0]) && progress >= applied[0]!;
  }, 'every member and the watcher at one index');
  const digest = pageSetDigest([...pages.values()].map((p) => ({ ns: p.namespace, key: p.key, parentKey: p.parentKey.byteLength === 0 ? undefined : p.parentKey, bytes: p.bytes, tokens: p.tokens })));
  for (const id of members) {
    const st = await admin.status(cluster.addresses.get(id)!, { includeDigest: true });
    t.equal(st.pagesDigest, digest, `member ${id}: the page set the feed rebuilt (at ${st.pagesDigestIndex})`);
  }
  watcher.client.close();
  await watcher.done;

  const changes = events.filter((e) => e.type !== 'progress');
  const ids = changes.map((e) => `${e.index}/${e.type}/${hex(e.key)}`);
  t.equal(new Set(ids).size, ids.length, `${ids.length} changes, none twice`);
  t.ok(changes.every((e, i) => i === 0 || e.index >= changes[i - 1]!.index), 'in log order');
  t.equal(changes.filter((e) => e.type === 'stored').length, written, 'every put once');
  t.ok(resumes.length >= 2, `the client resumed after the drop and the kill (${resumes.join(', ')})`);

  const run = await cli;
  const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  t.equal(lines.length, 10, `kvc watch printed --count lines (stderr: ${run.stderr.slice(-300)})`);
  t.match(lines[0], { type: 'stored', index: Number, namespace: NS, key: /^[0-9a-f]+$/ }, 'one JSON object per change');
  t.equal(run.code, 0);
});
