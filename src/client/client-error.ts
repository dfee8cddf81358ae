// The one error type the client library throws for operating errors, and the translation of a
// gRPC status (with its trailers) into it. A server error carries its registry code in the
// `kvc-code` trailer (src/errors.ts, docs/ERRORS.md) and, for KVC_NOT_LEADER / KVC_NO_LEADER,
// the leader's address in `kvcache-leader`. Errors that no server coded (the connection failed,
// our own deadline passed) and integrity failures the client detects itself get the client-side
// codes below, documented in docs/CLIENT.md. Caller bugs (a bad argument) stay TypeError/RangeError.

import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

/** Trailer carrying the server's KVC_* code. */
export const KVC_CODE_TRAILER = 'kvc-code';
/** Trailer carrying the leader's host:port on a redirect. */
export const LEADER_TRAILER = 'kvcache-leader';

/** Codes only the client produces (no server sent a `kvc-code`). */
export const CLIENT_ERROR_CODES = Object.freeze({
  /** The member could not be reached (connection refused or dropped) and sent no code. */
  KVC_UNAVAILABLE: 'KVC_UNAVAILABLE',
  /** The call was cancelled before it completed. */
  KVC_CANCELLED: 'KVC_CANCELLED',
  /** Any other gRPC failure without a `kvc-code` (e.g. a message over the size limit). */
  KVC_TRANSPORT: 'KVC_TRANSPORT',
  /** The server broke the stream contract (a chunk without meta, a gap, a wrong key, a short stream). */
  KVC_PROTOCOL: 'KVC_PROTOCOL',
} as const);

/** Trailer of KVC_WATCH_COMPACTED: the oldest index the member can still watch from. */
export const OLDEST_INDEX_TRAILER = 'kvc-oldest-index';

export interface KvcClientErrorOptions {
  grpcCode: number;
  leader?: string;
  oldestIndex?: number;
  endpoint?: string;
  cause?: unknown;
}

export class KvcClientError extends Error {
  /** A `KVC_*` code: a registry code from the server or one of CLIENT_ERROR_CODES. */
  readonly code: string;
  /** The gRPC status number (grpc.status), or UNKNOWN (2) for errors the client detected itself. */
  readonly grpcCode: number;
  /** The leader's address from the `kvcache-leader` trailer, when the server named one. */
  readonly leader?: string;
  /** The member that answered (or failed to). */
  readonly endpoint?: string;
  /** KVC_WATCH_COMPACTED: the oldest index that member can watch from. */
  readonly oldestIndex?: number;
  /** How many attempts the client made before giving up (set by the retry loop). */
  attempts = 1;

  constructor(code: string, message: string, options: KvcClientErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KvcClientError';
    this.code = code;
    this.grpcCode = options.grpcCode;
    if (options.leader !== undefined) this.leader = options.leader;
    if (options.endpoint !== undefined) this.endpoint = options.endpoint;
    if (options.oldestIndex !== undefined) this.oldestIndex = options.oldestIndex;
  }
}

export function isKvcClientError(error: unknown): error is KvcClientError {
  return error instanceof KvcClientError;
}

/** An error the client detected in what a server sent (not a gRPC status). */
export function localError(code: string, message: string, endpoint: string): KvcClientError {
  return new KvcClientError(code, `${code}: ${message} (from ${endpoint})`, { grpcCode: GrpcStatus.UNKNOWN, endpoint });
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'metadata' in error;
}

/** A failed call's error as a KvcClientError; anything that is not a gRPC status is rethrown. */
export function toClientError(error: unknown, endpoint: string): KvcClientError {
  if (error instanceof KvcClientError) return error;
  if (!isServiceError(error)) throw error;
  const trailer = (name: string): string | undefined => {
    const value = error.metadata?.get(name)[0];
    return value === undefined ? undefined : String(value);
  };
  const code = trailer(KVC_CODE_TRAILER) ?? uncodedStatus(error.code);
  const leader = trailer(LEADER_TRAILER);
  const options: KvcClientErrorOptions = { grpcCode: error.code, endpoint, cause: error };
  if (leader !== undefined && leader !== '') options.leader = leader;
  const oldest = Number(trailer(OLDEST_INDEX_TRAILER));
  if (Number.isSafeInteger(oldest) && oldest > 0) options.oldestIndex = oldest;
  return new KvcClientError(code, `${code}: ${error.details} (from ${endpoint})`, options);
}

function uncodedStatus(grpcCode: number): string {
  switch (grpcCode) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 'KVC_DEADLINE_EXCEEDED';
    case GrpcStatus.UNAVAILABLE:
      return CLIENT_ERROR_CODES.KVC_UNAVAILABLE;
    case GrpcStatus.CANCELLED:
      return CLIENT_ERROR_CODES.KVC_CANCELLED;
    default:
      return CLIENT_ERROR_CODES.KVC_TRANSPORT;
  }
}
