// TLS of a member: the cluster CA, its certificate and its key, read from files and read again on
// reload() (`kvc start` calls it on SIGHUP). The files feed grpc-js' certificate-provider
// credentials (experimental.createCertificateProvider{Server,Channel}Credentials, grpc-js 1.14),
// whose listeners swap the server's secure context (http2 setSecureContext) and the peer
// channels' context for new connections, so a renewed certificate is served without a restart.
//
// The server asks every client for a certificate but does not require one at the TLS layer: one
// port serves clients (who may have none) and members (who must). PeerService checks the
// certificate per call (auth.ts authorizePeer). A member's certificate names its id as a URI SAN
// `kvc://member/<id>` and the addresses clients dial as IP or DNS SANs (kvc certs issue).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import tls, { type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { NodeId } from '../raft/index.js';

/** The URI SAN that names a member id in its certificate: `kvc://member/3`. */
export const MEMBER_URI_PREFIX = 'kvc://member/';

export interface TlsFiles {
  /** PEM of the cluster CA: peers' certificates must chain to it. */
  caFile: string;
  /** PEM of this member's certificate (chain). */
  certFile: string;
  /** PEM of its private key. */
  keyFile: string;
}

type CaListener = (update: { caCertificate: Buffer } | null) => void;
type IdentityListener = (update: { certificate: Buffer; privateKey: Buffer } | null) => void;

/** The member's CA, certificate and key as grpc-js' CertificateProvider; reload() reads the files again. */
export class MemberCertificates {
  readonly files: TlsFiles;
  #ca: Buffer;
  #cert: Buffer;
  #key: Buffer;
  readonly #caListeners = new Set<CaListener>();
  readonly #identityListeners = new Set<IdentityListener>();

  private constructor(files: TlsFiles, pem: { ca: Buffer; cert: Buffer; key: Buffer }) {
    this.files = files;
    this.#ca = pem.ca;
    this.#cert = pem.cert;
    this.#key = pem.key;
  }

  static async load(files: TlsFiles): Promise<MemberCertificates> {
    return new MemberCertificates(files, await readPem(files));
  }

  /** The CA, certificate and key now in use, as PEM (a member's own client calls to its peers). */
  get pem(): { ca: Buffer; cert: Buffer; key: Buffer } {
    return { ca: this.#ca, cert: this.#cert, key: this.#key };
  }

  /** The serial number (hex) of the certificate now served. */
  get serial(): string {
    return new X509Certificate(this.#cert).serialNumber;
  }

  /**
   * Reads the files again and hands them to the server and the peer channels. Files that do not
   * parse, or a key that does not match the certificate, leave the old ones in use and throw.
   */
  async reload(): Promise<void> {
    const pem = await readPem(this.files);
    this.#ca = pem.ca;
    this.#cert = pem.cert;
    this.#key = pem.key;
    for (const listener of this.#caListeners) listener({ caCertificate: this.#ca });
    for (const listener of this.#identityListeners) listener({ certificate: this.#cert, privateKey: this.#key });
  }

  // A new listener hears the current files on the next microtask, not synchronously: grpc-js'
  // server registers its secure-context watcher only after adding these listeners, and would miss
  // a synchronous first update (it then drops every connection as "credentials not loaded").
  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    queueMicrotask(() => {
      if (this.#caListeners.has(listener)) listener({ caCertificate: this.#ca });
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.#identityListeners.has(listener)) listener({ certificate: this.#cert, privateKey: this.#key });
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }

  /** TLS for the member's port: a client certificate is asked for, verified against the CA, not required. */
  serverCredentials(): grpc.ServerCredentials {
    // One provider serves both roles, so grpc-js' argument order does not matter.
    return grpc.experimental.createCertificateProviderServerCredentials(this, this, false);
  }

  /**
   * Credentials of a peer channel to member `id`: this member's certificate as the client's, and
   * the peer's certificate must chain to the CA, name the dialled address and name member `id`.
   */
  peerCredentials(id: NodeId): grpc.ChannelCredentials {
    return grpc.experimental.createCertificateProviderChannelCredentials(this, this, {
      checkServerIdentity: memberIdentityCheck(id),
    });
  }
}

/**
 * A `checkServerIdentity` for a connection to member `id` (peer channels, the socket lane): the
 * certificate must name the dialled host, as TLS checks it, and the member id.
 */
export function memberIdentityCheck(id: NodeId): (host: string, certificate: PeerCertificate) => Error | undefined {
  return (host, certificate) => {
    const hostError = tls.checkServerIdentity(host, certificate);
    if (hostError !== undefined) return hostError;
    if (memberIdsOf(certificate).includes(id)) return undefined;
    return new Error(`the certificate at ${host} does not name member ${id} (${MEMBER_URI_PREFIX}${id})`);
  };
}

async function readPem(files: TlsFiles): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
  const [ca, cert, key] = await Promise.all([readFile(files.caFile), readFile(files.certFile), readFile(files.keyFile)]);
  // Parsed here so a bad file is reported by name instead of failing every later handshake.
  const parse = <T>(file: string, what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      throw new Error(`${file}: not a PEM ${what} (${(error as Error).message})`, { cause: error });
    }
  };
  parse(files.caFile, 'CA certificate', () => new X509Certificate(ca));
  const certificate = parse(files.certFile, 'certificate', () => new X509Certificate(cert));
  const privateKey = parse(files.keyFile, 'private key', () => createPrivateKey(key));
  if (!certificate.checkPrivateKey(privateKey)) throw new Error(`${files.keyFile} is not the key of ${files.certFile}`);
  return { ca, cert, key };
}

/** The member ids a certificate names in URI SANs `kvc://member/<id>`. */
export function memberIdsOf(certificate: Pick<PeerCertificate, 'subjectaltname'>): NodeId[] {
  const ids: NodeId[] = [];
  for (const name of (certificate.subjectaltname ?? '').split(', ')) {
    if (!name.startsWith(`URI:${MEMBER_URI_PREFIX}`)) continue;
    const text = name.slice(`URI:${MEMBER_URI_PREFIX}`.length);
    const id = Number(text);
    if (/^\d+$/.test(text) && Number.isSafeInteger(id) && id > 0) ids.push(id);
  }
  return ids;
}
