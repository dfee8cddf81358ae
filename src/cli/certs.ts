// A development certificate authority for TLS clusters (`kvc certs`, `kvc dev --tls`): a CA, and
// member and client certificates it signs. Keys are RSA 2048 made by node:crypto (native, fast);
// certificates are built and signed with node-forge. A member certificate names the member id as
// a URI SAN `kvc://member/<id>` (what PeerService checks, src/rpc/auth.ts) and the addresses
// clients dial as IP SANs (127.0.0.1, ::1) or DNS SANs (localhost, host names); it serves as both
// TLS server and TLS client (extKeyUsage serverAuth and clientAuth). A client certificate names
// no member id, so it opens no peer stream.
//
// For production, any CA whose certificates carry the same SANs works; these files are for dev.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import forge from 'node-forge';
import { MEMBER_URI_PREFIX } from '../rpc/index.js';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';
export const CA_DAYS_DEFAULT = 3_650;
export const LEAF_DAYS_DEFAULT = 825;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates count as valid from a little before now, so a clock slightly behind still accepts them. */
const BACKDATE_MS = 5 * 60 * 1000;
/** The SAN type numbers of RFC 5280 that forge takes. */
const SAN_DNS = 2;
const SAN_URI = 6;
const SAN_IP = 7;

export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** A member's id: named as URI SAN kvc://member/<id>, and the certificate serves as a server too. */
  memberId?: number;
  /** Names clients dial: IP addresses become IP SANs, anything else DNS SANs. */
  hosts?: string[];
  days?: number;
}

/** A self-signed CA certificate and its key. */
export function createCa(commonName = 'kvc dev CA', days = CA_DAYS_DEFAULT): CertificateAndKey {
  const keys = rsaKeys();
  const cert = newCertificate(keys.publicKey, commonName, days);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKey };
}

/** A certificate signed by `ca`: a member's when `memberId` is set, else a client's. */
export function issueCertificate(ca: CertificateAndKey, o: IssueOptions): CertificateAndKey {
  const keys = rsaKeys();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = newCertificate(keys.publicKey, o.commonName, o.days ?? LEAF_DAYS_DEFAULT);
  cert.setIssuer(caCert.subject.attributes);
  const altNames: { type: number; value?: string; ip?: string }[] = (o.hosts ?? []).map((host) =>
    net.isIP(host) !== 0 ? { type: SAN_IP, ip: host } : { type: SAN_DNS, value: host },
  );
  if (o.memberId !== undefined) altNames.push({ type: SAN_URI, value: `${MEMBER_URI_PREFIX}${o.memberId}` });
  const member = o.memberId !== undefined;
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: member || altNames.length > 0, clientAuth: true },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKey };
}

function rsaKeys(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}

function newCertificate(publicKeyPem: string, commonName: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // A positive serial of 128 random bits (the leading 01 keeps the DER integer positive).
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - BACKDATE_MS);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  return cert;
}

// ---- files ---------------------------------------------------------------------------------

export interface IssuedFiles {
  cert: string;
  key: string;
}

/** Writes a new CA into `dir` (ca.pem, ca-key.pem); refuses to replace one unless `force`. */
export async function initCaFiles(dir: string, o: { force?: boolean; commonName?: string } = {}): Promise<IssuedFiles> {
  await mkdir(dir, { recursive: true });
  const ca = createCa(o.commonName);
  const cert = path.join(dir, CA_CERT_FILE);
  const key = path.join(dir, CA_KEY_FILE);
  // The key is written first and only readable by its owner; 'wx' refuses to overwrite.
  const flag = o.force ? 'w' : 'wx';
  await writeFile(key, ca.keyPem, { mode: 0o600, flag });
  await writeFile(cert, ca.certPem, { flag });
  return { cert, key };
}

export async function readCaFiles(dir: string): Promise<CertificateAndKey> {
  const [certPem, keyPem] = await Promise.all([readFile(path.join(dir, CA_CERT_FILE), 'utf8'), readFile(path.join(dir, CA_KEY_FILE), 'utf8')]);
  return { certPem, keyPem };
}

/** Issues a certificate from the CA in `dir` and writes `<name>.pem` and `<name>-key.pem` there. */
export async function issueFiles(dir: string, name: string, o: IssueOptions): Promise<IssuedFiles> {
  const issued = issueCertificate(await readCaFiles(dir), o);
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  await writeFile(key, issued.keyPem, { mode: 0o600 });
  await writeFile(cert, issued.certPem);
  return { cert, key };
}
