// Proves `kvc certs init|issue` and `kvc token create`, run in this process through the real
// program (src/cli/program.ts run) with stdout captured: init writes a CA that signs what issue
// writes (a member certificate naming kvc://member/<id> and the hosts as IP/DNS SANs, serving as
// TLS server and client; a client certificate naming no member), init refuses to replace a CA,
// issue without a CA or with both/neither of --member and --client fails with one clear line;
// token create prints a random token and the config entry holding only its sha256, which the
// config validator accepts while it refuses a token written in place of a sha256; and a non-
// loopback member without a tls section is refused unless the config says tls: { mode: insecure }.
import t from 'tap';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { clientAccess } from '../../src/cli/connect.js';
import { registerCerts } from '../../src/cli/commands/certs.js';
import { isConfigError, parseClusterConfig } from '../../src/config/index.js';
import { runKvcInProcess } from './helpers.js';

/** Runs `kvc ...args` (the certs and token commands) in this process: its exit status, stdout and stderr. */
function kvc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runKvcInProcess(registerCerts, args);
}

t.test('kvc certs init and issue', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-certs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const missing = await kvc('certs', 'issue', '--dir', dir, '--member', '1');
  t.equal(missing.code, 1, 'issue without a CA fails');
  t.match(missing.stderr, /no CA in .* \(run kvc certs init/);
  const init = await kvc('certs', 'init', '--dir', dir, '--json');
  t.equal(init.code, 0, `init exits 0 (${init.stderr})`);
  const caFiles = JSON.parse(init.stdout) as { cert: string; key: string };
  const ca = new X509Certificate(await readFile(caFiles.cert));
  t.ok(ca.ca, 'a CA certificate');
  const again = await kvc('certs', 'init', '--dir', dir);
  t.equal(again.code, 1, 'init does not replace a CA');
  t.match(again.stderr, /already holds a CA \(--force replaces it\)/);
  const forced = await kvc('certs', 'init', '--dir', dir, '--force');
  t.equal(forced.code, 0, 'unless --force');
  t.match(forced.stdout, /CA certificate: .*ca\.pem/, 'human output names the files');
  const newCa = new X509Certificate(await readFile(caFiles.cert));

  const member = await kvc('certs', 'issue', '--dir', dir, '--member', 'n3', '--hosts', '127.0.0.1,kvc-3.example,::1', '--json');
  t.equal(member.code, 0, `issue --member exits 0 (${member.stderr})`);
  const memberFiles = JSON.parse(member.stdout) as { cert: string; key: string };
  t.equal(path.basename(memberFiles.cert), 'member-3.pem');
  const memberCert = new X509Certificate(await readFile(memberFiles.cert));
  t.ok(memberCert.verify(newCa.publicKey), 'signed by the CA');
  t.equal(memberCert.subjectAltName, 'IP Address:127.0.0.1, DNS:kvc-3.example, IP Address:0:0:0:0:0:0:0:1, URI:kvc://member/3', 'names the hosts and the member id');
  t.ok(memberCert.checkPrivateKey((await import('node:crypto')).createPrivateKey(await readFile(memberFiles.key))), 'with its key');
  t.match(memberCert.toLegacyObject().ext_key_usage ?? [], ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'a TLS server and client');

  const client = await kvc('certs', 'issue', '--dir', dir, '--client', 'worker-1');
  t.equal(client.code, 0, `issue --client exits 0 (${client.stderr})`);
  t.match(client.stdout, /certificate: .*client-worker-1\.pem/);
  const clientCert = new X509Certificate(await readFile(path.join(dir, 'client-worker-1.pem')));
  t.equal(clientCert.subjectAltName, undefined, 'a client certificate names no member id');
  t.ok(clientCert.verify(newCa.publicKey), 'signed by the CA');

  // What every cluster command makes of --ca/--cert/--cert-key/--token (src/cli/connect.ts).
  const access = await clientAccess({ token: 'tk', ca: caFiles.cert, cert: path.join(dir, 'client-worker-1.pem'), certKey: path.join(dir, 'client-worker-1-key.pem') });
  t.equal(access.token, 'tk');
  t.match(String(access.tls?.ca), /BEGIN CERTIFICATE/, 'the CA file is read');
  t.match(String(access.tls?.key), /BEGIN PRIVATE KEY/, 'and the client key');
  t.same(await clientAccess({}), {}, 'nothing given: plaintext, no token');
  t.same(Object.keys((await clientAccess({ ca: caFiles.cert })).tls ?? {}), ['ca'], 'a CA alone: TLS without a client certificate');
  await t.rejects(clientAccess({ cert: caFiles.cert, certKey: caFiles.key }), /--cert and --cert-key need --ca/);
  await t.rejects(clientAccess({ ca: caFiles.cert, cert: caFiles.cert }), /give both --cert and --cert-key, or neither/);
  await t.rejects(clientAccess({ ca: path.join(dir, 'nope.pem') }), /--ca .*nope\.pem: cannot read it \(ENOENT\)/);

  for (const [what, args, message] of [
    ['both', ['--member', '1', '--client', 'x'], /exactly one of --member ID and --client NAME/],
    ['neither', [], /exactly one of --member ID and --client NAME/],
    ['a bad client name', ['--client', 'a b'], /--client: expected 1-64 characters/],
  ] as const) {
    const bad = await kvc('certs', 'issue', '--dir', dir, ...args);
    t.equal(bad.code, 1, `${what}: fails`);
    t.match(bad.stderr, message, `${what}: says why`);
  }
  t.equal((await kvc('certs', 'issue', '--dir', dir, '--member', '1', '--hosts', 'a b')).code, 2, 'a bad --hosts is a usage error');
});

t.test('kvc token create, and what the config accepts', async (t) => {
  const made = await kvc('token', 'create', '--scopes', 'read,write', '--namespaces', 'ns-a,ns-b', '--json');
  t.equal(made.code, 0, `token create exits 0 (${made.stderr})`);
  const { token, entry } = JSON.parse(made.stdout) as { token: string; entry: { sha256: string; scopes: string[]; namespaces: string[] } };
  t.equal(entry.sha256, createHash('sha256').update(token).digest('hex'), 'the entry holds the sha256 of the token');
  t.same(entry, { sha256: entry.sha256, scopes: ['read', 'write'], namespaces: ['ns-a', 'ns-b'] });
  const human = await kvc('token', 'create');
  t.match(human.stdout, /token \(give it to the client.*\nconfig entry \(under tokens:\): \{"sha256":"[0-9a-f]{64}","scopes":\["read"\],"namespaces":\["\*"\]\}/, 'defaults: read on every namespace');
  t.equal((await kvc('token', 'create', '--scopes', 'read,root')).code, 2, 'an unknown scope is a usage error');

  const base = 'cluster: c\nmembers: [{ id: 1, address: 127.0.0.1:7401 }]\n';
  const config = parseClusterConfig(`${base}tokens:\n  - ${JSON.stringify(entry)}\n`, 'c.yaml');
  t.same(config.tokens, [entry], 'the config takes the entry');
  const problems = (text: string): string => {
    try {
      parseClusterConfig(text, 'c.yaml');
      return '';
    } catch (error) {
      if (!isConfigError(error)) throw error;
      return error.message;
    }
  };
  t.match(problems(`${base}tokens: [{ sha256: ${token}, scopes: [read], namespaces: ["*"] }]`), /tokens\[0\]\.sha256: required: the sha256 of the token.*never goes in the config/, 'a plaintext token is refused');
  t.match(problems(`${base}tokens: [{ sha256: ${entry.sha256}, scopes: [root], namespaces: [] }]`), /tokens\[0\]\.scopes: expected a list of read, write, admin[^\n]*\n[^\n]*tokens\[0\]\.namespaces: expected a list/, 'bad scopes and namespaces');
  t.match(problems(`${base}tokens: {}`), /tokens: expected a list/);
  const remote = 'cluster: c\nmembers: [{ id: 1, address: 10.1.2.3:7401 }]\n';
  t.match(problems(remote), /members\[0\]\.address: 10\.1\.2\.3:7401 is not a loopback address: configure tls/, 'plaintext beyond loopback must be asked for');
  t.equal(problems(`${remote}tls: { mode: insecure }\n`), '', 'and may be');
  t.equal(problems(`${remote}tls: { ca: ca.pem, cert: "m-{id}.pem", key: "m-{id}-key.pem" }\n`), '', 'or served over TLS');
  t.match(problems(`${remote}tls: { mode: insecure, ca: ca.pem }\n`), /tls\.mode: insecure serves plaintext/);
  t.match(problems(`${remote}tls: { mode: tls, ca: ca.pem }\n`), /tls\.cert: required with mode tls[\s\S]*tls\.key: required/);
  t.match(problems(`${remote}tls: {}\n`), /tls: expected ca, cert and key \(or mode: insecure\)/);
  t.match(problems(`${remote}tls: { mode: plain }\n`), /tls\.mode: expected one of tls, insecure/);
  t.equal(problems('cluster: c\nmembers: [{ id: 1, address: "[::1]:7401" }, { id: 2, address: localhost:7402 }, { id: 3, address: 10.0.0.1:7403, listen: 127.0.0.2:7403 }]\n'), '', 'loopback listeners need no tls');
});
