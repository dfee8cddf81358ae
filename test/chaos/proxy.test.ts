// Proves the chaos harness's TCP proxy and proxy mesh do what the nemeses rely on, with real
// sockets on 127.0.0.1: bytes flow both ways unchanged; a `reset` block resets open connections
// and refuses new ones until the heal; a `hold` block delivers nothing while it lasts and
// everything, in order, after it; a delay holds bytes for about that long; blocking P(1->2)
// stops only that direction of the mesh (P(2->1) still carries); a re-added member's shared
// inbound proxy is cut with it (the widening); proxy addresses map back to their members; and
// close() leaves no connection open.
import net from 'node:net';
import t, { type Test } from 'tap';
import { ProxyMesh } from '../../src/chaos/network.js';
import { PROXY_DELAY_MS_MAX, TcpProxy } from '../../src/chaos/proxy.js';
import { eventually, sleep } from '../wait.js';

/** An echo server on a free port; answers each chunk with the same bytes. */
async function echoServer(t: Test): Promise<{ address: string; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, sockets };
}

interface Conn {
  socket: net.Socket;
  received(): string;
  closed: Promise<string>;
}

/** A client connection; resolves once connected, or once closed if it never connects (a reset on accept). */
function connect(address: string): Promise<Conn> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let data = '';
    let error = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    const closed = new Promise<string>((r) => socket.on('close', () => r(error || 'closed')));
    const conn = { socket, received: () => data, closed };
    socket.once('connect', () => resolve(conn));
    void closed.then(() => resolve(conn));
  });
}

async function proxyTo(t: Test, target: string): Promise<TcpProxy> {
  const proxy = new TcpProxy({ target, name: 'test' });
  await proxy.listen();
  t.teardown(() => proxy.close());
  return proxy;
}

t.test('forwards bytes both ways unchanged and counts them', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyTo(t, echo.address);
  t.equal(proxy.target, echo.address);
  const conn = await connect(proxy.address);
  const payload = 'x'.repeat(300_000) + 'end';
  conn.socket.write(payload);
  await eventually(() => conn.received().length === payload.length, 5_000, 'the echo of 300 KB');
  t.equal(conn.received(), payload);
  t.equal(proxy.counters.bytesForward, payload.length);
  t.equal(proxy.counters.bytesBackward, payload.length);
  t.equal(proxy.connections, 1);
  conn.socket.end();
  await conn.closed;
  await eventually(() => proxy.connections === 0, 2_000, 'the link to close');
});

t.test('reset: open connections are reset, new ones refused, the heal restores service', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyTo(t, echo.address);
  const before = await connect(proxy.address);
  before.socket.write('ping');
  await eventually(() => before.received() === 'ping', 2_000, 'the first echo');
  proxy.block('reset');
  t.equal(proxy.blocked, 'reset');
  t.match(await before.closed, /ECONNRESET|closed/, 'the open connection was cut');
  const during = await connect(proxy.address);
  t.match(await during.closed, /ECONNRESET|closed/, 'a new connection is refused while blocked');
  t.ok(proxy.counters.reset >= 2);
  await eventually(() => echo.sockets.size === 0, 2_000, 'the upstream side to close too');
  proxy.unblock();
  t.equal(proxy.blocked, undefined);
  const after = await connect(proxy.address);
  after.socket.write('pong');
  await eventually(() => after.received() === 'pong', 2_000, 'an echo after the heal');
  after.socket.destroy();
});

t.test('hold: nothing flows while held, everything flows in order after the heal', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyTo(t, echo.address);
  const open = await connect(proxy.address);
  proxy.block('hold');
  t.ok(proxy.holding);
  open.socket.write('held-1,');
  const fresh = await connect(proxy.address);
  fresh.socket.write('fresh');
  await sleep(300);
  t.equal(open.received(), '', 'an open connection delivers nothing while held');
  t.equal(fresh.received(), '', 'a new connection delivers nothing while held');
  open.socket.write('held-2');
  proxy.unblock();
  await eventually(() => open.received() === 'held-1,held-2' && fresh.received() === 'fresh', 3_000, 'the held bytes after the heal');
  t.pass('held bytes arrived in order');
  open.socket.destroy();
  fresh.socket.destroy();
});

t.test('delay: bytes arrive about delayMs later each way', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyTo(t, echo.address);
  t.throws(() => proxy.setDelay(-1), RangeError);
  t.throws(() => proxy.setDelay(PROXY_DELAY_MS_MAX + 1), RangeError);
  proxy.setDelay(100);
  t.equal(proxy.delayMs, 100);
  const conn = await connect(proxy.address);
  const started = performance.now();
  conn.socket.write('slow');
  await eventually(() => conn.received() === 'slow', 3_000, 'the delayed echo');
  const rtt = performance.now() - started;
  t.ok(rtt >= 190, `the round trip took ${rtt.toFixed(0)} ms, two delays of 100 ms`);
  conn.socket.destroy();
});

t.test('a connection whose target is down is closed; close() ends every link', async (t) => {
  const echo = await echoServer(t);
  const dead = new TcpProxy({ target: '127.0.0.1:1' });
  await dead.listen();
  const refused = await connect(dead.address);
  t.match(await refused.closed, /ECONNRESET|closed/, 'the client side closes when the target refuses');
  await dead.close();
  const proxy = new TcpProxy({ target: echo.address });
  await proxy.listen();
  const conns = await Promise.all([connect(proxy.address), connect(proxy.address)]);
  await eventually(() => proxy.connections === 2, 2_000, 'two links');
  await proxy.close();
  for (const conn of conns) t.match(await conn.closed, /ECONNRESET|closed/);
  t.equal(proxy.connections, 0);
  t.throws(() => new TcpProxy({ target: 'nohost' }), RangeError);
});

t.test('the mesh cuts one direction only, maps addresses back, and widens cuts to re-added members', async (t) => {
  const servers = await Promise.all([echoServer(t), echoServer(t), echoServer(t)]);
  const mesh = await ProxyMesh.create(servers.map((s, i) => ({ id: i + 1, address: s.address })));
  t.teardown(() => mesh.close());
  const config1 = mesh.configFor(1);
  t.equal(config1.find((m) => m.id === 1)?.address, servers[0]!.address, 'a member dials itself at its real address');
  const p12 = config1.find((m) => m.id === 2)!.address;
  const p21 = mesh.configFor(2).find((m) => m.id === 1)!.address;
  t.not(p12, servers[1]!.address, 'peers are dialled through proxies');
  t.equal(mesh.memberAt(p12), 2);
  t.equal(mesh.memberAt(p21), 1);
  t.equal(mesh.memberAt(servers[2]!.address), 3);
  t.equal(mesh.memberAt('127.0.0.1:1'), undefined);
  t.equal(mesh.realAddress(3), servers[2]!.address);
  t.throws(() => mesh.realAddress(9), RangeError);

  t.same(mesh.cut([{ from: 1, to: 2 }], 'reset'), [], 'nothing widened before a re-add');
  t.same(mesh.cuts, [{ from: 1, to: 2 }]);
  const cut = await connect(p12);
  t.match(await cut.closed, /ECONNRESET|closed/, 'P(1->2) refuses');
  const open = await connect(p21);
  open.socket.write('2 still talks to 1');
  await eventually(() => open.received() === '2 still talks to 1', 2_000, 'P(2->1) to carry');
  open.socket.destroy();

  const shared = mesh.announceReadded(2);
  t.ok(mesh.isReadded(2));
  t.equal(mesh.memberAt(shared), 2);
  t.same(mesh.cut([{ from: 1, to: 2 }], 'reset'), [2], 'a cut into a re-added member widens to its shared proxy');
  const viaShared = await connect(shared);
  t.match(await viaShared.closed, /ECONNRESET|closed/, 'the shared inbound proxy of member 2 is cut too');
  mesh.heal();
  t.same(mesh.cuts, []);
  const healed = await connect(shared);
  healed.socket.write('back');
  await eventually(() => healed.received() === 'back', 2_000, 'the shared proxy to carry after the heal');
  healed.socket.destroy();
  mesh.setDelay(5);
  const totals = mesh.totals();
  t.ok(totals.accepted >= 4 && totals.reset >= 2 && totals.bytes > 0, `totals ${JSON.stringify(totals)}`);
});
