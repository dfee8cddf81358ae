// Who may call what: the one check every CacheService and AdminService handler passes through
// (`authorize`), and the check of a member's certificate on PeerService (`authorizePeer`).
//
// Clients present a bearer token as gRPC metadata `authorization: Bearer <token>`. The config
// keeps only each token's sha256 (hex), its scopes (read, write, admin) and its namespaces ('*'
// for all), so a leaked config file leaks no token. A presented token is hashed and compared with
// every configured digest in constant time (crypto.timingSafeEqual, no early exit), so response
// timing says nothing about how close a guess was.
//
// When no tokens are configured, CacheService is open (the dev default and the behaviour before
// tokens existed). AdminService is open only when neither tokens nor the older plaintext
// `adminToken` are configured; that adminToken still works and carries the admin scope.
//
// Members prove who they are with their TLS client certificate (tls.ts): grpc-js hands a handler
// the peer's certificate only when it chains to the cluster CA, and the certificate must name a
// member id of the current configuration as a URI SAN `kvc://member/<id>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import { KvcError } from '../errors.js';
import type { NodeId } from '../raft/index.js';
import { memberIdsOf } from './tls.js';

export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
/** A token's namespaces: this one means every namespace. */
export const ALL_NAMESPACES = '*';
const AUTHORIZATION_HEADER = 'authorization';
const BEARER_PREFIX = 'Bearer ';

/** One configured token: its sha256 (64 hex digits), what it may do and where. */
export interface TokenGrant {
  /** A label for logs and operators; never secret. */
  name?: string;
  sha256: string;
  scopes: readonly Scope[];
  /** Namespace names, or ['*'] for every namespace. */
  namespaces: readonly string[];
}

/** The sha256 of a token, as hex: what the config stores instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

interface Grant {
  name: string;
  digest: Buffer;
  scopes: ReadonlySet<Scope>;
  namespaces: ReadonlySet<string>;
}

/** The member's access rules, built once from its options. */
export class AccessPolicy {
  readonly #grants: Grant[];
  readonly #adminDigest: Buffer | undefined;

  constructor(o: { tokens?: readonly TokenGrant[]; adminToken?: string } = {}) {
    this.#grants = (o.tokens ?? []).map((t, i) => ({
      name: t.name ?? `tokens[${i}]`,
      digest: Buffer.from(t.sha256, 'hex'),
      scopes: new Set(t.scopes),
      namespaces: new Set(t.namespaces),
    }));
    for (const grant of this.#grants) {
      if (grant.digest.byteLength !== 32) throw new Error(`token ${grant.name}: sha256 must be 64 hex digits`);
    }
    this.#adminDigest = o.adminToken === undefined ? undefined : digestOf(o.adminToken);
  }

  /** Whether CacheService asks for tokens (some are configured). */
  get cacheClosed(): boolean {
    return this.#grants.length > 0;
  }

  /** Whether AdminService asks for a token (tokens or an adminToken are configured). */
  get adminClosed(): boolean {
    return this.#grants.length > 0 || this.#adminDigest !== undefined;
  }

  /** Throws KVC_UNAUTHENTICATED or KVC_PERMISSION_DENIED unless `metadata` may do `scope` (on `namespace`). */
  check(metadata: grpc.Metadata, scope: Scope, namespace?: string): void {
    if (!(scope === 'admin' ? this.adminClosed : this.cacheClosed)) return;
    const presented = bearerToken(metadata);
    if (presented === undefined) throw new KvcError('KVC_UNAUTHENTICATED', { detail: `no authorization metadata (expected "${BEARER_PREFIX}<token>")` });
    const digest = digestOf(presented);
    if (scope === 'admin' && this.#adminDigest !== undefined && timingSafeEqual(digest, this.#adminDigest)) return;
    const grant = this.#find(digest);
    if (grant === undefined) throw new KvcError('KVC_UNAUTHENTICATED', { detail: 'unknown token' });
    if (!grant.scopes.has(scope)) throw new KvcError('KVC_PERMISSION_DENIED', { detail: `token ${grant.name} lacks the ${scope} scope` });
    if (namespace !== undefined && !grant.namespaces.has(ALL_NAMESPACES) && !grant.namespaces.has(namespace)) {
      throw new KvcError('KVC_PERMISSION_DENIED', { detail: `token ${grant.name} does not cover namespace "${namespace}"` });
    }
  }

  /** Every digest is compared, matched or not, so the time taken does not depend on which matched. */
  #find(digest: Buffer): Grant | undefined {
    let found: Grant | undefined;
    for (const grant of this.#grants) {
      if (timingSafeEqual(digest, grant.digest) && found === undefined) found = grant;
    }
    return found;
  }
}

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function bearerToken(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get(AUTHORIZATION_HEADER)[0];
  if (typeof value !== 'string' || !value.startsWith(BEARER_PREFIX)) return undefined;
  return value.slice(BEARER_PREFIX.length);
}

/** What authorize needs of a member: its policy (MemberContext has it). */
export interface AuthContext {
  readonly access: AccessPolicy;
}

/**
 * The check every CacheService and AdminService handler makes first: throws KVC_UNAUTHENTICATED
 * (no or unknown token) or KVC_PERMISSION_DENIED (the token lacks `scope` or `namespace`). Leave
 * `namespace` out for calls that name none (ReleasePages, Status).
 */
export function authorize(ctx: AuthContext, call: { metadata: grpc.Metadata; getAuthContext?(): { sslPeerCertificate?: PeerCertificate } }, scope: Scope, namespace?: string): void {
  // A member reads pages of its peers without a token (payload-repair.ts): its certificate says who it is.
  if (scope === 'read' && ctx.access.cacheClosed && isMemberCall(ctx, call)) return;
  ctx.access.check(call.metadata, scope, namespace);
}

/** Whether the call comes with a certificate from the cluster CA that names a member of the configuration. */
function isMemberCall(ctx: AuthContext, call: { getAuthContext?(): { sslPeerCertificate?: PeerCertificate } }): boolean {
  if (!isPeerAuthContext(ctx) || !ctx.peerCertificates || call.getAuthContext === undefined) return false;
  const certificate = call.getAuthContext().sslPeerCertificate;
  return certificate !== undefined && memberIdsOf(certificate).some((id) => ctx.isMember(id));
}

function isPeerAuthContext(ctx: AuthContext): ctx is AuthContext & PeerAuthContext {
  return 'peerCertificates' in ctx && typeof (ctx as Partial<PeerAuthContext>).isMember === 'function';
}

/**
 * Status is what clients read to find members, the leader and the shared arena, so a token with
 * the read scope may call it too; without tokens it is an admin call like before.
 */
export function authorizeStatus(ctx: AuthContext, call: { metadata: grpc.Metadata }): void {
  try {
    ctx.access.check(call.metadata, 'admin');
  } catch (error) {
    if (!ctx.access.cacheClosed) throw error;
    try {
      ctx.access.check(call.metadata, 'read');
    } catch {
      throw error;
    }
  }
}

/** What authorizePeer needs of a member. */
export interface PeerAuthContext {
  /** Whether the member serves TLS and so can tell members by their certificates. */
  readonly peerCertificates: boolean;
  isMember(id: NodeId): boolean;
}

/**
 * The member ids a PeerService call's certificate names, once the certificate is known to come
 * from the cluster CA and to name a member of the current configuration; undefined when the
 * member serves plaintext (no certificates to check: loopback or `tls.mode: insecure`).
 */
export function authorizePeer(ctx: PeerAuthContext, call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } }): ReadonlySet<NodeId> | undefined {
  if (!ctx.peerCertificates) return undefined;
  // grpc-js gives the certificate only when the TLS layer verified it against the cluster CA.
  const certificate = call.getAuthContext().sslPeerCertificate;
  if (certificate === undefined) {
    throw new KvcError('KVC_UNAUTHENTICATED', { detail: 'PeerService needs a client certificate issued by the cluster CA' });
  }
  const ids = memberIdsOf(certificate).filter((id) => ctx.isMember(id));
  if (ids.length === 0) {
    const named = memberIdsOf(certificate);
    throw new KvcError('KVC_PERMISSION_DENIED', {
      detail: named.length === 0 ? 'the certificate names no member id (URI SAN kvc://member/<id>)' : `member ${named.join(', ')} is not in the configuration`,
    });
  }
  return new Set(ids);
}
