// Proves mutual TLS between members and bearer tokens on every service, with two real in-process
// members on 127.0.0.1 serving TLS from a dev CA made by kvc certs' code (src/cli/certs.ts):
// - members with the cluster's certificates form a cluster and replicate a page, the appends over
//   the socket lane (src/rpc/peer-socket.ts) with mutual TLS;
// - the socket lane closes a connection with no client certificate, one from another CA, or one
//   naming a non-member, before it reads a frame (a forged vote with a far higher term never
//   reaches the leader);
// - PeerService refuses, with a coded error and the stream closed, a caller without a client
//   certificate (KVC_UNAUTHENTICATED), with one from another CA (KVC_UNAUTHENTICATED: the TLS layer
//   did not verify it), with one from the cluster CA naming a non-member id or no member id at all
//   (KVC_PERMISSION_DENIED); a snapshot stream is refused the same way;
// - CacheService and AdminService take only configured tokens: none or an unknown one is
//   KVC_UNAUTHENTICATED, another namespace's or a read token writing or calling admin is
//   KVC_PERMISSION_DENIED; good tokens read, write and call Status/admin through the client library;
// - the put lane (src/rpc put-lane.ts) turns TLS after its hello: frames sent in the clear are
//   never read, tokens work over it as over gRPC, and a client that does not trust the member's
//   certificate never puts over it;
// - a reload serves a re-issued certificate to new connections (the member's own reload path;
//   SIGHUP of a real `kvc start` is in test/cli/tls.test.ts).
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { createCa, issueCertificate, type CertificateAndKey } from '../../src/cli/certs.js';
import { KvcClient, type ClientTls } from '../../src/client/index.js';
import { encodeMessageParts } from '../../src/codec/index.js';
import { PUT_LANE_HELLO, PUT_LANE_KINDS, framedPieces, putLaneFrameHead } from '../../src/proto/index.js';
import { MessageType } from '../../src/raft/index.js';
import { AccessPolicy, PEER_SOCKET_HELLO, hashToken, memberIdsOf, type TokenGrant } from '../../src/rpc/index.js';
import { serializeRaftBatch } from '../../src/rpc/raft-batch-codec.js';
import { RawClient, eventually, pageKey, startCluster, type CallError } from './helpers.js';

const NS = 'tenant-a';
const OTHER_NS = 'tenant-b';
const TOKENS = { writer: 'writer-secret-1', reader: 'reader-secret-1', other: 'other-secret-1', admin: 'admin-secret-1' };

t.test('mutual TLS between members and tokens on every service', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-auth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ca = createCa('test CA');
  const write = async (name: string, pair: CertificateAndKey): Promise<{ cert: string; key: string }> => {
    const files = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}-key.pem`) };
    await writeFile(files.cert, pair.certPem);
    await writeFile(files.key, pair.keyPem);
    return files;
  };
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, ca.certPem);
  const memberFiles = new Map<number, { cert: string; key: string }>();
  for (const id of [1, 2]) memberFiles.set(id, await write(`member-${id}`, issueCertificate(ca, { commonName: `m${id}`, memberId: id, hosts: ['127.0.0.1'] })));
  const tokens: TokenGrant[] = [
    { name: 'writer', sha256: hashToken(TOKENS.writer), scopes: ['read', 'write'], namespaces: [NS] },
    { name: 'reader', sha256: hashToken(TOKENS.reader), scopes: ['read'], namespaces: ['*'] },
    { name: 'other', sha256: hashToken(TOKENS.other), scopes: ['read', 'write'], namespaces: [OTHER_NS] },
    { name: 'admin', sha256: hashToken(TOKENS.admin), scopes: ['admin'], namespaces: ['*'] },
  ];
  const cluster = await startCluster([1, 2], { tokens }, (id) => ({ tls: { caFile, certFile: memberFiles.get(id)!.cert, keyFile: memberFiles.get(id)!.key } }));
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const follower = cluster.followers()[0]!;
  const endpoints = [...cluster.addresses.values()];
  const clientTls: ClientTls = { ca: ca.certPem };
  const clientFor = (token?: string): KvcClient => {
    const client = new KvcClient({ endpoints, tls: clientTls, retries: 3, backoffBaseMs: 10, deadlineMs: 5_000, ...(token === undefined ? {} : { token }) });
    t.teardown(() => client.close());
    return client;
  };
  const page = (i: number, ns = NS) => ({ meta: { namespace: ns, key: pageKey(i), dtype: 'u8' as const, shape: [64], tokens: 16 }, data: new Uint8Array(64).fill(i) });

  t.test('members with the cluster certificates form a cluster and replicate', async (t) => {
    const writer = clientFor(TOKENS.writer);
    const [outcome] = await writer.putPages([page(1)]);
    t.equal(outcome!.code, '', 'the writer token stores a page over TLS');
    await eventually(() => follower.node.lookup(NS, [pageKey(1)], 0) === 1, 10_000, 'the follower to apply the page');
    t.equal(follower.node.lookup(NS, [pageKey(1)], 0), 1, `member ${follower.id} has the page: the peer stream is open over mutual TLS`);
    t.equal(leader.transport.counters.rejected + follower.transport.counters.rejected, 0, 'no peer message was refused between members');
    t.ok(leader.transport.counters.socketLanesOpened >= 1, 'the appends went over the socket lane, with mutual TLS');
    t.equal(leader.transport.counters.socketLanesRefused, 0);
  });

  t.test('the socket lane closes connections without a member certificate, before reading a frame', async (t) => {
    const otherCa = createCa('another CA');
    const identities: [string, CertificateAndKey | undefined][] = [
      ['no client certificate', undefined],
      ['a certificate from another CA naming member 2', issueCertificate(otherCa, { commonName: 'forged', memberId: 2, hosts: ['127.0.0.1'] })],
      ['a cluster certificate naming member 9 (not in the configuration)', issueCertificate(ca, { commonName: 'm9', memberId: 9, hosts: ['127.0.0.1'] })],
    ];
    const term = leader.node.status().term;
    for (const [what, identity] of identities) {
      const rejected = leader.transport.counters.rejected;
      // A forged vote request from member 2 with a far higher term: it must never reach the node.
      const vote = encodeMessageParts({ type: MessageType.Vote, from: follower.id, to: leader.id, term: term + 1000, logTerm: 1_000_000, index: 1_000_000, entries: [], commit: 0, reject: false, rejectHint: 0 });
      const frame = Buffer.concat(framedPieces(serializeRaftBatch({ from: follower.id, to: leader.id, messages: [vote], fromAddress: '' })));
      await socketLaneAttempt(leader.address, ca.certPem, identity, frame);
      await eventually(() => leader.transport.counters.rejected > rejected, 5_000, `${what}: refused and counted`);
      t.pass(`${what}: the connection was closed and counted`);
    }
    t.ok(leader.node.isLeader(), 'the leader kept its leadership');
    t.equal(leader.node.status().term, term, 'and its term: no forged vote got through');
  });

  t.test('the put lane turns TLS after its hello: tokens work over it, and nothing is read in the clear', async (t) => {
    // Frames sent in the clear after the hello (a token among them): the member answers the hello,
    // then takes the bytes for a TLS handshake, fails it and closes, answering no frame.
    const socket = net.connect({ host: '127.0.0.1', port: Number(leader.address.split(':')[1]) });
    socket.on('error', () => undefined);
    const open = Buffer.from(JSON.stringify({ timeoutMs: 5_000, metadata: { authorization: `Bearer ${TOKENS.writer}` } }));
    socket.write(Buffer.concat([PUT_LANE_HELLO, putLaneFrameHead(PUT_LANE_KINDS.open, 1, open.byteLength), open]));
    const answered: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => answered.push(chunk));
    await new Promise((resolve) => socket.on('close', resolve));
    t.same(Buffer.concat(answered), PUT_LANE_HELLO, 'the hello, and nothing after it: the clear frames were refused as a failed handshake');

    const writer = clientFor(TOKENS.writer);
    await eventually(
      async () => {
        await writer.putPages([page(300 + writer.putAttempts.grpc + writer.putAttempts.lane)]);
        return writer.putAttempts.lane > 0;
      },
      10_000,
      'a put over the TLS lane',
    );
    const [stored] = await writer.putPages([page(399)]);
    t.equal(stored!.code, '', 'the writer token stores a page over the TLS lane');
    const other = clientFor(TOKENS.other);
    await eventually(
      async () => {
        await other.putPages([page(400)]).catch(() => undefined);
        return other.putAttempts.lane > 0;
      },
      10_000,
      'a refused put over the TLS lane',
    );
    const refused = (await other.putPages([page(401)]).catch((e: unknown) => e)) as { code: string };
    t.equal(refused.code, 'KVC_PERMISSION_DENIED', 'a token of another namespace is refused over it, as over gRPC');
    const strange = new KvcClient({ endpoints, tls: { ca: createCa('another CA').certPem }, retries: 0, deadlineMs: 2_000, token: TOKENS.writer });
    t.teardown(() => strange.close());
    await strange.putPages([page(402)]).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await strange.putPages([page(403)]).catch(() => undefined);
    t.equal(strange.putAttempts.lane, 0, 'a client that does not trust the member certificate never puts over the lane');
  });

  t.test('PeerService refuses callers that are not members, with a coded error', async (t) => {
    const otherCa = createCa('another CA');
    const identities: [string, CertificateAndKey | undefined, string][] = [
      ['no client certificate', undefined, 'KVC_UNAUTHENTICATED'],
      ['a certificate from another CA naming member 2', issueCertificate(otherCa, { commonName: 'forged', memberId: 2 }), 'KVC_UNAUTHENTICATED'],
      ['a cluster certificate naming member 9 (not in the configuration)', issueCertificate(ca, { commonName: 'm9', memberId: 9, hosts: ['127.0.0.1'] }), 'KVC_PERMISSION_DENIED'],
      ['a cluster client certificate (no member id)', issueCertificate(ca, { commonName: 'a client' }), 'KVC_PERMISSION_DENIED'],
    ];
    for (const [what, identity, code] of identities) {
      const credentials = grpc.credentials.createSsl(
        Buffer.from(ca.certPem),
        identity === undefined ? null : Buffer.from(identity.keyPem),
        identity === undefined ? null : Buffer.from(identity.certPem),
      );
      const raw = new RawClient(leader.address, credentials);
      const raft = raw.clientStream<object, object>('peer', 'Raft');
      // A forged vote request with a high term: it must never reach the node.
      raft.call.write({ from: 2, to: leader.id, messages: [new Uint8Array([1, 2, 3])], fromAddress: '' });
      const error = (await raft.response.catch((e: CallError) => e)) as CallError;
      t.equal(error.kvcCode, code, `Raft stream with ${what}: ${code}`);
      raft.call.end();
      const snapshot = raw.clientStream<object, object>('peer', 'Snapshot');
      snapshot.call.write({ seq: 0, data: new Uint8Array(0), crc32c: 0, last: true });
      const snapshotError = (await snapshot.response.catch((e: CallError) => e)) as CallError;
      t.equal(snapshotError.kvcCode, code, `Snapshot stream with ${what}: ${code}`);
      raw.close();
    }
    t.ok(leader.node.isLeader(), 'the leader kept its leadership');
  });

  t.test('tokens: none, unknown, wrong namespace or scope are refused; good ones work', async (t) => {
    const lookupCode = (client: KvcClient, ns = NS) => client.lookup(ns, [pageKey(1)]).then(() => 'OK', (e: { code: string }) => e.code);
    const putCode = (client: KvcClient, ns = NS) => client.putPages([page(2, ns)]).then(() => 'OK', (e: { code: string }) => e.code);
    t.equal(await lookupCode(clientFor()), 'KVC_UNAUTHENTICATED', 'a lookup without a token');
    t.equal(await lookupCode(clientFor('not-a-token')), 'KVC_UNAUTHENTICATED', 'a lookup with an unknown token');
    t.equal(await lookupCode(clientFor(TOKENS.other)), 'KVC_PERMISSION_DENIED', "a lookup with another namespace's token");
    t.equal(await putCode(clientFor(TOKENS.other)), 'KVC_PERMISSION_DENIED', "a put with another namespace's token");
    t.equal(await putCode(clientFor(TOKENS.reader)), 'KVC_PERMISSION_DENIED', 'a put with a read token');
    const reader = clientFor(TOKENS.reader);
    t.equal(await reader.deletePages(NS, [pageKey(1)]).then(() => 'OK', (e: { code: string }) => e.code), 'KVC_PERMISSION_DENIED', 'a delete with a read token');
    t.equal(await reader.lookup(NS, [pageKey(1)]), 1, 'the read token looks up');
    const pages = [];
    for await (const got of reader.getPages(NS, [pageKey(1)])) pages.push(got);
    t.same([...pages[0]!.data], [...page(1).data.values()], 'the read token gets the page');
    t.equal((await reader.status(leader.address)).id, leader.id, 'the read token may call Status (clients learn members from it)');
    t.equal(await reader.snapshot().then(() => 'OK', (e: { code: string }) => e.code), 'KVC_PERMISSION_DENIED', 'but no other admin call');
    t.equal(await clientFor().status().then(() => 'OK', (e: { code: string }) => e.code), 'KVC_UNAUTHENTICATED', 'Status without a token');
    t.equal(await putCode(clientFor(TOKENS.writer)), 'OK', 'the writer token puts in its namespace');
    t.equal(await putCode(clientFor(TOKENS.writer), OTHER_NS), 'KVC_PERMISSION_DENIED', 'but not in another');
    t.equal(await putCode(clientFor(TOKENS.other), OTHER_NS), 'OK', 'the other token puts in its own namespace');
    t.ok((await clientFor(TOKENS.admin).snapshot()) >= 0, 'the admin token calls admin methods');
    const watchCode = async (client: KvcClient, namespace?: string): Promise<string> => {
      try {
        const events = client.watch({ ...(namespace === undefined ? {} : { namespace }), resumesMax: 0 });
        const first = await events.next();
        await events.return(undefined);
        return first.done === true ? 'ENDED' : 'OK';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    t.equal(await watchCode(clientFor(), NS), 'KVC_UNAUTHENTICATED', 'Watch without a token');
    t.equal(await watchCode(clientFor(TOKENS.writer), NS), 'OK', 'Watch of its namespace with a token for it (the client sends its token)');
    t.equal(await watchCode(clientFor(TOKENS.writer)), 'KVC_PERMISSION_DENIED', 'Watch of every namespace needs a token for "*"');
    t.equal(await watchCode(clientFor(TOKENS.reader)), 'OK', 'which the reader token has');
    const raw = new RawClient(leader.address, grpc.credentials.createSsl(Buffer.from(ca.certPem)));
    t.teardown(() => raw.close());
    const bearer = new grpc.Metadata();
    bearer.set('authorization', 'Basic d3JpdGVyOnNlY3JldA==');
    const basic = (await raw.unary('cache', 'Lookup', { namespace: NS, keys: [pageKey(1)] }, bearer).catch((e: CallError) => e)) as CallError;
    t.equal(basic.kvcCode, 'KVC_UNAUTHENTICATED', 'a non-Bearer authorization is no token');
    t.equal(basic.code, grpc.status.UNAUTHENTICATED);
    const config = JSON.parse((await raw.unary<{ json: string }>('admin', 'GetConfig', {}, adminMetadata())).json) as { tokens: object[] };
    t.same(config.tokens.map((token) => Object.keys(token).sort()), tokens.map(() => ['name', 'namespaces', 'scopes']), 'GetConfig shows no token digest');
  });

  t.test("a member's certificate reads its peers' pages without a token (payload repair), and writes nothing", async (t) => {
    const files = memberFiles.get(follower.id)!;
    const memberTls: ClientTls = { ca: ca.certPem, cert: await readFile(files.cert), key: await readFile(files.key) };
    const asMember = new KvcClient({ endpoints: [leader.address], tls: memberTls, retries: 0, deadlineMs: 5_000 });
    t.teardown(() => asMember.close());
    const pages = [];
    for await (const got of asMember.getPages(NS, [pageKey(1)], { endpoint: leader.address })) pages.push(got);
    t.same([...pages[0]!.data], [...page(1).data.values()], 'GetPages with a member certificate and no token');
    const put = await asMember.putPages([page(3)]).then(() => 'OK', (e: { code: string }) => e.code);
    t.equal(put, 'KVC_UNAUTHENTICATED', 'a put with a member certificate and no token is refused');
    const clientCert = issueCertificate(ca, { commonName: 'a client' });
    const asClient = new KvcClient({ endpoints: [leader.address], tls: { ca: ca.certPem, cert: clientCert.certPem, key: clientCert.keyPem }, retries: 0, deadlineMs: 5_000 });
    t.teardown(() => asClient.close());
    t.equal(await asClient.lookup(NS, [pageKey(1)]).then(() => 'OK', (e: { code: string }) => e.code), 'KVC_UNAUTHENTICATED', 'a client certificate naming no member reads nothing without a token');
  });

  t.test('a reload serves a re-issued certificate to new connections', async (t) => {
    const before = await servedCertificate(leader.address, ca.certPem);
    const files = memberFiles.get(leader.id)!;
    const renewed = issueCertificate(ca, { commonName: `m${leader.id} renewed`, memberId: leader.id, hosts: ['127.0.0.1'] });
    await writeFile(files.key, renewed.keyPem);
    await writeFile(files.cert, renewed.certPem);
    t.equal(await leader.reloadCertificates(), true, 'a TLS member reloads');
    const after = await servedCertificate(leader.address, ca.certPem);
    t.not(after.serialNumber, before.serialNumber, 'new connections get the new certificate');
    t.equal(after.serialNumber, new X509Certificate(renewed.certPem).serialNumber);
    t.same(memberIdsOf(after), [leader.id], 'which names the member');
    await writeFile(files.cert, 'not a certificate');
    await t.rejects(leader.reloadCertificates(), /not a PEM certificate/, 'a bad file is refused');
    t.equal((await servedCertificate(leader.address, ca.certPem)).serialNumber, after.serialNumber, 'and the old certificate stays in use');
    const [outcome] = await clientFor(TOKENS.writer).putPages([page(3)]);
    t.equal(outcome!.code, '', 'the cluster still takes writes');
    await eventually(() => follower.node.lookup(NS, [pageKey(3)], 0) === 1, 10_000, 'the follower to apply page 3');
  });
});

t.test('a token digest that is not a sha256 is refused when the member starts', async (t) => {
  t.throws(() => new AccessPolicy({ tokens: [{ sha256: 'abcd', scopes: ['read'], namespaces: ['*'] }] }), /sha256 must be 64 hex digits/);
  t.same(memberIdsOf({ subjectaltname: 'URI:kvc://member/0, URI:kvc://member/x, URI:https://a, DNS:kvc://member/4, URI:kvc://member/7' }), [7], 'only positive ids in kvc:// URI SANs count');
  t.same(memberIdsOf({}), [], 'no SANs: no ids');
});

/**
 * A socket-lane client over TLS with `identity` (or none): hello, handshake, then `frame`.
 * Resolves once the member closed the connection.
 */
function socketLaneAttempt(address: string, caPem: string, identity: CertificateAndKey | undefined, frame: Buffer): Promise<void> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    let seen = 0;
    const onData = (chunk: Buffer): void => {
      seen += chunk.byteLength;
      if (seen < PEER_SOCKET_HELLO.byteLength) return;
      socket.off('data', onData);
      const secure = tls.connect({ socket, ca: caPem, ...(identity === undefined ? {} : { cert: identity.certPem, key: identity.keyPem }), checkServerIdentity: () => undefined });
      secure.on('error', () => undefined);
      secure.on('secureConnect', () => secure.write(frame));
      secure.on('close', () => resolve());
    };
    socket.on('data', onData);
    socket.write(PEER_SOCKET_HELLO);
  });
}

function adminMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${TOKENS.admin}`);
  return metadata;
}

/** The certificate a member serves to a new TLS connection. */
function servedCertificate(address: string, caPem: string): Promise<tls.PeerCertificate> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)), ca: caPem, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined }, () => {
      const certificate = socket.getPeerCertificate();
      socket.destroy();
      resolve(certificate);
    });
    socket.once('error', reject);
  });
}
