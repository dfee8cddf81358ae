// The registry of operating errors that leave the system (CONVENTIONS: "One registry of error
// codes"). Each code is stable: clients branch on it, it travels in a gRPC trailer, and
// docs/ERRORS.md documents it (a test keeps the two in step). The gRPC status is a plain name here
// so that this module imports nothing; only src/rpc maps it to a grpc-js status number.
//
// Bugs are not in this registry: a broken invariant is an assertion failure. KVC_INTERNAL is what
// the RPC layer reports when such a failure escapes a request.

/** The gRPC status codes this system reports, by their canonical names. */
export type GrpcStatusName =
  | 'INVALID_ARGUMENT'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'DATA_LOSS'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'FAILED_PRECONDITION'
  | 'INTERNAL';

export interface ErrorDefinition {
  readonly message: string;
  readonly grpcStatus: GrpcStatusName;
}

export const ERROR_CODES = Object.freeze({
  KVC_INVALID_KEY: { message: 'page key has an invalid length', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_INVALID_NAMESPACE: { message: 'namespace name is invalid', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_UNKNOWN_DTYPE: { message: 'unknown dtype', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_SHAPE_MISMATCH: { message: 'shape times dtype size does not match the payload bytes', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_TOO_MANY_KEYS: { message: 'too many keys in one request', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_PAGE_TOO_LARGE: { message: 'page is over the size limit', grpcStatus: 'RESOURCE_EXHAUSTED' },
  KVC_QUOTA_EXHAUSTED: { message: 'the byte budget or namespace quota is full and nothing is evictable', grpcStatus: 'RESOURCE_EXHAUSTED' },
  KVC_INVALID_CONFIG: { message: 'invalid setting', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_INVALID_ARGUMENT: { message: 'invalid argument', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_NOT_LEADER: { message: 'this node is not the leader', grpcStatus: 'UNAVAILABLE' },
  KVC_NO_LEADER: { message: 'the cluster has no leader yet', grpcStatus: 'UNAVAILABLE' },
  KVC_PROPOSAL_DROPPED: { message: 'the proposal was dropped before it was committed', grpcStatus: 'UNAVAILABLE' },
  KVC_DEADLINE_EXCEEDED: { message: 'the deadline passed before the request completed', grpcStatus: 'DEADLINE_EXCEEDED' },
  KVC_CHECKSUM_MISMATCH: { message: 'page checksum does not match its bytes', grpcStatus: 'DATA_LOSS' },
  KVC_NOT_FOUND: { message: 'page not found', grpcStatus: 'NOT_FOUND' },
  KVC_EXISTS_DIFFERENT: { message: 'page key exists with a different checksum', grpcStatus: 'ALREADY_EXISTS' },
  KVC_INCOMPLETE_PAGE: { message: 'the stream ended before the page was complete', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_UNAUTHENTICATED: { message: 'missing or unknown credentials', grpcStatus: 'UNAUTHENTICATED' },
  KVC_PERMISSION_DENIED: { message: 'the credentials do not allow this call', grpcStatus: 'PERMISSION_DENIED' },
  KVC_SNAPSHOT_INVALID: { message: 'snapshot stream is incomplete or damaged', grpcStatus: 'DATA_LOSS' },
  KVC_WAL_CORRUPT: { message: 'the write-ahead log is damaged before its tail', grpcStatus: 'DATA_LOSS' },
  KVC_CODEC: { message: 'malformed encoded message', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_SHM_NOT_ON_HOST: {
    message: "shared-memory transfer needs the nonce of this member's current arena file",
    grpcStatus: 'FAILED_PRECONDITION',
  },
  KVC_LEASE_UNKNOWN: { message: 'unknown or expired shared-memory lease', grpcStatus: 'NOT_FOUND' },
  KVC_LEASE_NOT_OWNED: { message: 'the shared-memory lease belongs to another client', grpcStatus: 'PERMISSION_DENIED' },
  KVC_TOO_MANY_LEASES: { message: 'the client holds the most shared-memory leases allowed', grpcStatus: 'RESOURCE_EXHAUSTED' },
  KVC_MALFORMED_REQUEST: { message: 'the request message does not decode', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_UNKNOWN_SERVICE: { message: 'no such service on this member', grpcStatus: 'NOT_FOUND' },
  KVC_UNKNOWN_PEER: { message: 'peer message from a member that is not in the configuration', grpcStatus: 'PERMISSION_DENIED' },
  KVC_WATCH_COMPACTED: { message: 'the watch start index is older than the events this member keeps; relist with ListPages', grpcStatus: 'FAILED_PRECONDITION' },
  KVC_WATCH_FUTURE_INDEX: { message: 'the watch start index is past what this member has applied', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_WATCH_TOO_SLOW: { message: 'the watcher fell too far behind and was cut off; resume from the next index', grpcStatus: 'RESOURCE_EXHAUSTED' },
  KVC_TOO_MANY_WATCHERS: { message: 'this member serves the most watch streams allowed', grpcStatus: 'RESOURCE_EXHAUSTED' },
  KVC_INVALID_PAGE_TOKEN: { message: 'malformed ListPages page token', grpcStatus: 'INVALID_ARGUMENT' },
  KVC_BUSY: { message: 'the member is already doing this; one at a time', grpcStatus: 'RESOURCE_EXHAUSTED' },
  KVC_INTERNAL: { message: 'internal error', grpcStatus: 'INTERNAL' },
} as const satisfies Record<string, ErrorDefinition>);

export type KvcErrorCode = keyof typeof ERROR_CODES;

export interface KvcErrorOptions {
  /** Specifics appended to the registry message ("key is 3 bytes, expected 8 to 64"). */
  detail?: string;
  /** The error this one wraps. */
  cause?: unknown;
  /**
   * Machine-readable facts a client needs to act on the error (e.g. the oldest index a watch can
   * start from); src/rpc sends each as a `kvc-<name>` trailer.
   */
  trailers?: Readonly<Record<string, string>>;
}

/** An expected operating error with a stable `KVC_*` code. */
export class KvcError extends Error {
  readonly code: KvcErrorCode;
  readonly grpcStatus: GrpcStatusName;
  readonly trailers: Readonly<Record<string, string>>;

  constructor(code: KvcErrorCode, options: KvcErrorOptions = {}) {
    const definition: ErrorDefinition = ERROR_CODES[code];
    const message = options.detail === undefined ? definition.message : `${definition.message}: ${options.detail}`;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KvcError';
    this.code = code;
    this.grpcStatus = definition.grpcStatus;
    this.trailers = options.trailers ?? {};
  }
}

export function isKvcError(error: unknown): error is KvcError {
  return error instanceof KvcError;
}

export function isKvcErrorCode(code: string): code is KvcErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
