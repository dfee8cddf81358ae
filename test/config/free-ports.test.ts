// Proves the loopback ports handed to members started by tests, `kvc chaos`, the fuzzer and the
// benchmarks: picked below the kernel's ephemeral range when /proc says where it starts (so an
// outgoing connection cannot take one before its member binds it), the whole range when that
// leaves too few or nothing says; distinct; held until released, then free to bind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { freeLoopbackPorts, portFree, portRange, reserveLoopbackPorts } from '../../src/config/index.js';

function bind(port: number): Promise<net.Server | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
  });
}

const close = (server: net.Server): Promise<unknown> => new Promise((resolve) => server.close(resolve));

t.test('portRange: below the ephemeral range when it leaves room, else the whole range', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kvc-ports-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'ip_local_port_range');
  writeFileSync(file, '32768\t60999\n');
  t.same(portRange(file), { low: 20_000, high: 32_768 });
  writeFileSync(file, '22000 60999\n');
  t.same(portRange(file), { low: 20_000, high: 60_000 }, 'fewer than 4096 ports below it');
  writeFileSync(file, 'garbage\n');
  t.same(portRange(file), { low: 20_000, high: 60_000 });
  t.same(portRange(path.join(dir, 'missing')), { low: 20_000, high: 60_000 });
});

t.test('reserveLoopbackPorts holds distinct ports in portRange() until released', async (t) => {
  const { low, high } = portRange();
  const reserved = await reserveLoopbackPorts(6);
  t.equal(new Set(reserved.ports).size, 6, `distinct: ${reserved.ports.join(', ')}`);
  for (const port of reserved.ports) t.ok(port >= low && port < high, `${port} in [${low}, ${high})`);
  const taken = await bind(reserved.ports[0]!);
  t.equal((taken as NodeJS.ErrnoException).code, 'EADDRINUSE', 'held while reserved');
  t.equal(await portFree(reserved.ports[1]!), false, 'portFree: not while held');
  await reserved.release();
  t.equal(await portFree(reserved.ports[1]!), true, 'portFree: once released (and closed again)');
  const servers = await Promise.all(reserved.ports.map(bind));
  t.ok(servers.every((s) => s instanceof net.Server), 'all free once released');
  await Promise.all(servers.map((s) => close(s as net.Server)));
});

t.test('freeLoopbackPorts: distinct ports, free to bind', async (t) => {
  const ports = await freeLoopbackPorts(3);
  t.equal(new Set(ports).size, 3);
  const servers = await Promise.all(ports.map(bind));
  t.ok(servers.every((s) => s instanceof net.Server), ports.join(', '));
  await Promise.all(servers.map((s) => close(s as net.Server)));
});
