// Proves src/rpc/server-window.ts: a member's gRPC server (createServer) gives every HTTP/2
// session it accepts LIMITS.rpc.flowControlWindowBytes of stream window (its SETTINGS) and of
// connection window (a WINDOW_UPDATE), while a plain grpc-js server given the same
// 'grpc-node.flow_control_window' option keeps HTTP/2's 65,535 bytes (why the module exists: when
// this half fails, grpc-js has started to honour the option and the module can go). The same
// holds over TLS (grpc-js builds its secure server from the same options). A real member,
// reached through such a session, still stores and serves a page larger than the window.
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { createCa, issueCertificate } from '../../src/cli/certs.js';
import { KvcClient } from '../../src/client/index.js';
import { LIMITS } from '../../src/limits.js';
import { applyServerWindow, createServer } from '../../src/rpc/index.js';
import { startCluster } from './helpers.js';

const HTTP2_DEFAULT_WINDOW = 65_535;

function bind(server: grpc.Server, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}

/** The windows a server grants a fresh HTTP/2 client: the stream window from its SETTINGS, the connection window once it has settled. */
async function windowsOf(address: string, tls?: { ca: string }): Promise<{ stream: number; connection: number }> {
  const session = tls === undefined ? http2.connect(`http://${address}`) : http2.connect(`https://${address}`, { ca: tls.ca, checkServerIdentity: () => undefined });
  try {
    const settings = await new Promise<http2.Settings>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    // The connection's WINDOW_UPDATE follows the SETTINGS; a ping's round trip is behind both.
    await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));
    return { stream: settings.initialWindowSize ?? HTTP2_DEFAULT_WINDOW, connection: session.state.remoteWindowSize ?? HTTP2_DEFAULT_WINDOW };
  } finally {
    session.close();
  }
}

t.test('a member server grants the configured windows; a plain grpc-js server does not', async (t) => {
  const window = LIMITS.rpc.flowControlWindowBytes;
  t.ok(window > HTTP2_DEFAULT_WINDOW, 'the configured window is larger than the default');

  const ours = createServer();
  t.teardown(() => ours.forceShutdown());
  const oursPort = await bind(ours);
  t.same(await windowsOf(`127.0.0.1:${oursPort}`), { stream: window, connection: window }, 'createServer: stream and connection windows');

  const plain = new grpc.Server({ 'grpc-node.flow_control_window': window });
  t.teardown(() => plain.forceShutdown());
  const plainPort = await bind(plain);
  t.same(await windowsOf(`127.0.0.1:${plainPort}`), { stream: HTTP2_DEFAULT_WINDOW, connection: HTTP2_DEFAULT_WINDOW }, 'grpc-js alone ignores the option on a server');

  const small = new grpc.Server();
  applyServerWindow(small, 1024 * 1024);
  t.teardown(() => small.forceShutdown());
  const smallPort = await bind(small);
  t.same(await windowsOf(`127.0.0.1:${smallPort}`), { stream: 1024 * 1024, connection: 1024 * 1024 }, 'applyServerWindow takes any size');
});

t.test('a member server grants the windows over TLS too', async (t) => {
  const ca = createCa('window test CA');
  const member = issueCertificate(ca, { commonName: 'm1', memberId: 1, hosts: ['127.0.0.1'] });
  const server = createServer();
  t.teardown(() => server.forceShutdown());
  const credentials = grpc.ServerCredentials.createSsl(Buffer.from(ca.certPem), [{ cert_chain: Buffer.from(member.certPem), private_key: Buffer.from(member.keyPem) }], false);
  const port = await bind(server, credentials);
  const window = LIMITS.rpc.flowControlWindowBytes;
  t.same(await windowsOf(`127.0.0.1:${port}`, { ca: ca.certPem }), { stream: window, connection: window });
});

t.test('applyServerWindow names what it cannot find instead of doing nothing', async (t) => {
  const notAServer = {} as unknown as grpc.Server;
  t.throws(() => applyServerWindow(notAServer, 1024), /commonServerOptions, _sessionHandler, _channelzSessionHandler/);
});

t.test('a page larger than the window goes up to a member and comes back intact', async (t) => {
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new KvcClient({ endpoints: [member.address] });
  t.teardown(() => client.close());
  const data = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < data.byteLength; i++) data[i] = (i * 31 + 7) & 0xff;
  const key = Buffer.from('server-window');
  const [outcome] = await client.putPages([{ meta: { namespace: 'w', key, dtype: 'u8', shape: [data.byteLength], tokens: 1 }, data }]);
  t.equal(outcome?.code, '', 'stored');
  const pages = [];
  for await (const page of client.getPages('w', [key])) pages.push(page);
  t.equal(pages.length, 1, 'one page back');
  t.ok(Buffer.from(pages[0]!.data).equals(data), 'the same bytes back');
});
