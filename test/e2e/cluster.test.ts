// End to end over real processes on 127.0.0.1: `kvc dev` starts a 3-member cluster; the client
// library puts 100 pages of 2 MiB; a lookup over a chain with a hole returns the prefix length up
// to the hole; every member serves byte-identical pages. Then, on the same cluster, bad input
// from a client (garbage on the port, a put stream cut mid-page) leaves every member serving.
import t from 'tap';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { KvcClient } from '../../src/client/index.js';
import { KVC_BIN, childEnv, freePortRange, waitForPidsGone } from '../cli/helpers.js';
import { NS, digestOf, e2eBytes, e2eKey, e2ePage } from './helpers.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const PAGES = 100;
const PAGE_BYTES = 2 * 1024 * 1024;

t.test('kvc dev cluster: 100 pages of 2 MiB, lookup with a hole, identical bytes on every member', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-e2e-dev-'));
  const base = await freePortRange(3);
  const dev = spawn(process.execPath, [KVC_BIN, 'dev', '--nodes', '3', '--json', '--dir', dir, '--base-port', String(base)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(),
  });
  dev.stderr.resume();
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    dev.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    dev.once('exit', (code) => reject(new Error(`kvc dev exited early (${code})`)));
  });
  const { endpoints, pids } = JSON.parse(line) as { endpoints: string[]; pids: number[] };
  t.teardown(async () => {
    dev.kill('SIGTERM');
    await waitForPidsGone([dev.pid!, ...pids], 15_000);
    await rm(dir, { recursive: true, force: true });
  });
  t.equal(endpoints.length, 3, 'three endpoints');

  const client = new KvcClient({ endpoints, deadlineMs: 60_000 });
  t.teardown(() => client.close());
  for (let i = 0; i < PAGES; i += 10) {
    const batch = Array.from({ length: 10 }, (_, k) => e2ePage(i + k, PAGE_BYTES));
    const results = await client.putPages(batch);
    t.ok(results.every((r) => r.code === ''), `pages ${i}..${i + 9} stored`);
  }
  const chain = Array.from({ length: PAGES + 10 }, (_, i) => e2eKey(i));
  t.equal(await client.lookup(NS, chain, { linearizable: true }), PAGES, 'lookup over a longer chain stops after the 100 stored pages');
  await client.deletePages(NS, [e2eKey(37)]);
  t.equal(await client.lookup(NS, chain, { linearizable: true }), 37, 'with a hole at 37, the cached prefix is 37 pages');

  const expected = new Map(Array.from({ length: PAGES }, (_, i) => [i, digestOf(e2eBytes(i, PAGE_BYTES))]));
  const wanted = Array.from({ length: PAGES }, (_, i) => i).filter((i) => i !== 37);
  // The pages after the hole: a member that holds them all has applied every put.
  const afterHole = wanted.filter((i) => i > 37).map(e2eKey);
  for (const endpoint of endpoints) {
    // Followers apply a moment after the leader acknowledged: wait until this one has them all.
    const deadline = Date.now() + 20_000;
    const probe = new KvcClient({ endpoints: [endpoint], deadlineMs: 30_000 });
    while (Date.now() < deadline && (await probe.lookup(NS, afterHole)) < afterHole.length) await new Promise((r) => setTimeout(r, 100));
    let mismatched = 0;
    let count = 0;
    for await (const page of probe.getPages(NS, wanted.map(e2eKey), { endpoint })) {
      const i = wanted[count++]!;
      if (digestOf(page.data) !== expected.get(i)) mismatched++;
    }
    probe.close();
    t.equal(count, wanted.length, `${endpoint} streamed all ${wanted.length} pages`);
    t.equal(mismatched, 0, `${endpoint} served identical bytes`);
  }

  // Garbage on a member's port, and a put stream cut in the middle of a page.
  await new Promise<void>((resolve) => {
    const [host, port] = endpoints[0]!.split(':');
    const socket = net.connect(Number(port), host!, () => {
      socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\xff\x13garbage'.repeat(100)));
      setTimeout(() => socket.destroy(), 200);
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
  const alive = new KvcClient({ endpoints, deadlineMs: 10_000 });
  t.teardown(() => alive.close());
  for (const endpoint of endpoints) {
    const st = await alive.status(endpoint);
    t.ok(st.appliedIndex > 0, `${endpoint} still serving after garbage on its port`);
  }
  t.equal(await alive.lookup(NS, chain.slice(0, 37)), 37, 'and the data is intact');
});
