// Proves a TLS cluster end to end with real processes on 127.0.0.1: `kvc dev --tls --json` prints
// ca, clientCert, clientKey and token (files that exist; the config holds only the token's
// sha256); `kvc put`/`status` work against it with --ca/--cert/--cert-key/--token and a lookup
// without the token gets KVC_UNAUTHENTICATED; member 1's certificate re-issued in place (kvc
// certs' code, in this process: test/cli/certs.test.ts runs the command itself) is served after
// SIGHUP to that real `kvc start` process, which keeps running. The Python client (when
// /usr/bin/python3 has grpcio) reads over TLS with ca/cert/key and token, and without the token
// gets KVC_UNAUTHENTICATED.
import t from 'tap';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { eventually } from '../wait.js';
import { issueFiles } from '../../src/cli/certs.js';
import { childEnv, freePortRange, pidAlive, runKvc, startDev } from './helpers.js';

const NODES = 1;
const PYTHON_SRC = fileURLToPath(new URL('../../python/src', import.meta.url));
const KEY = '6b7663746c732d6b65792d30303031';

interface TlsDevLine {
  endpoints: string[];
  pids: number[];
  config: string;
  ca: string;
  clientCert: string;
  clientKey: string;
  token: string;
}

t.test('kvc dev --tls, kvc commands with --ca/--cert/--cert-key/--token, SIGHUP reload', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const basePort = await freePortRange(NODES);
  const dev = await startDev(t, ['--tls', '--nodes', String(NODES), '--base-port', String(basePort), '--dir', path.join(dir, 'cluster'), '--log-level', 'info']);
  const line = dev.line as unknown as TlsDevLine;
  for (const field of ['ca', 'clientCert', 'clientKey'] as const) t.ok((await readFile(line[field], 'utf8')).includes('-----BEGIN'), `${field} is a PEM file`);
  t.match(line.token, /^[A-Za-z0-9_-]{43}$/, 'a random token');
  const config = await readFile(line.config, 'utf8');
  t.notOk(config.includes(line.token), 'the config does not hold the token');
  t.ok(config.includes(createHash('sha256').update(line.token).digest('hex')), 'only its sha256');
  t.same(new X509Certificate(await readFile(line.clientCert)).subjectAltName, undefined, 'the client certificate names no member');

  const E = ['--endpoints', line.endpoints.join(','), '--ca', line.ca];
  const input = path.join(dir, 'page.bin');
  await writeFile(input, Buffer.alloc(1024, 7));
  const put = await runKvc(['put', ...E, '--token', line.token, '--ns', 'tls-test', '--key', KEY, '--file', input, '--json']);
  t.equal(put.code, 0, `put with --ca and --token exits 0 (${put.stderr})`);
  const status = await runKvc(['status', ...E, '--cert', line.clientCert, '--cert-key', line.clientKey, '--token', line.token, '--json']);
  t.equal(status.code, 0, `status with a client certificate exits 0 (${status.stderr})`);
  t.equal((JSON.parse(status.stdout) as { members: unknown[] }).members.length, NODES, 'status sees every member over TLS');
  const anonymous = await runKvc(['lookup', ...E, '--ns', 'tls-test', '--keys', KEY, '--deadline-ms', '3000']);
  t.equal(anonymous.code, 1, 'a lookup without the token fails');
  t.match(anonymous.stderr, /KVC_UNAUTHENTICATED/, 'with the coded error');

  const python = process.env.KVC_PYTHON ?? '/usr/bin/python3';
  const noPython = spawnSync(python, ['-c', 'import grpc, google.protobuf'], { timeout: 30_000 }).status === 0 ? false : `${python} cannot import grpc`;
  await t.test('the Python client over TLS', { skip: noPython }, async (t) => {
    const script = [
      'import json, sys',
      'from kvcache_cluster import Client, KvcError',
      'e, ca, cert, key, token, k = sys.argv[1:]',
      'with Client(e, token, ca=ca, cert=cert, key=key, retries=1) as c:',
      '    matched = c.lookup("tls-test", [bytes.fromhex(k)])',
      '    first = next(iter(c.watch("tls-test", resumes_max=0))).type  # Watch sends the token too',
      'try:',
      '    with Client(e, ca=open(ca, "rb").read(), retries=0) as c: c.lookup("tls-test", [bytes.fromhex(k)]); code = "OK"',
      'except KvcError as error: code = error.code',
      'print(json.dumps({"matched": matched, "watched": first, "anonymous": code}))',
    ].join('\n');
    const ran = spawnSync(python, ['-c', script, line.endpoints.join(','), line.ca, line.clientCert, line.clientKey, line.token, KEY], {
      timeout: 60_000,
      encoding: 'utf8',
      env: childEnv({ PYTHONPATH: PYTHON_SRC, PYTHONDONTWRITEBYTECODE: '1' }),
    });
    t.equal(ran.status, 0, `python exits 0 (${ran.stderr})`);
    t.same(JSON.parse(ran.stdout), { matched: 1, watched: 'progress', anonymous: 'KVC_UNAUTHENTICATED' }, 'it reads the page and watches with the token, and is refused without');
  });

  const certs = path.dirname(line.ca);
  const before = await servedSerial(line.endpoints[0]!, line.ca);
  const files = await issueFiles(certs, 'member-1', { commonName: 'kvc member 1 renewed', memberId: 1, hosts: ['127.0.0.1', 'localhost'] });
  const renewed = new X509Certificate(await readFile(files.cert)).serialNumber;
  t.not(renewed, before, 'a new certificate for member 1');
  process.kill(line.pids[0]!, 'SIGHUP');
  await eventually(async () => (await servedSerial(line.endpoints[0]!, line.ca)) === renewed, 15_000, 'member 1 to serve the new certificate');
  t.equal(await servedSerial(line.endpoints[0]!, line.ca), renewed, 'after SIGHUP, member 1 serves the re-issued certificate');
  await eventually(() => /reloaded its TLS files/.test(dev.stderr()), 5_000, 'the reload log line');
  t.match(dev.stderr(), /reloaded its TLS files/, 'and says so in its log');

  t.ok(pidAlive(line.pids[0]!), 'SIGHUP did not stop the member');
});

/** The serial number of the certificate a member serves to a new TLS connection. */
function servedSerial(endpoint: string, caFile: string): Promise<string> {
  const colon = endpoint.lastIndexOf(':');
  return readFile(caFile, 'utf8').then(
    (ca) =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: endpoint.slice(0, colon), port: Number(endpoint.slice(colon + 1)), ca, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
          const serial = socket.getPeerCertificate().serialNumber;
          socket.destroy();
          resolve(serial);
        });
        socket.once('error', reject);
      }),
  );
}
