// Maps errors to gRPC statuses; the only place in the project that does (CONVENTIONS). A KvcError
// becomes its registry status with the stable code in the `kvc-code` trailer, and, for "not the
// leader" and "no leader", the leader's address in `kvcache-leader` when this member knows it.
// Anything else is a bug that escaped a handler: it is logged and answered INTERNAL/KVC_INTERNAL,
// never thrown out of the handler (which would take the process down or leave the call hanging).
import * as grpc from '@grpc/grpc-js';
import { KvcError, isKvcError, isKvcErrorCode, type KvcErrorCode } from '../errors.js';

export const KVC_CODE_TRAILER = 'kvc-code';
export const LEADER_TRAILER = 'kvcache-leader';

/** The status object grpc-js accepts from a handler's callback or a stream's 'error'. */
export type ServiceErrorObject = Partial<grpc.StatusObject> & { code: grpc.status; details: string; metadata: grpc.Metadata };

const LEADER_CODES: ReadonlySet<KvcErrorCode> = new Set(['KVC_NOT_LEADER', 'KVC_NO_LEADER']);

/**
 * Errors of other modules that carry a registry code without being KvcErrors (CodecError,
 * SnapshotStreamError): they are operating errors too and keep their code.
 */
function codedError(error: unknown): KvcError | undefined {
  if (isKvcError(error)) return error;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && isKvcErrorCode(error.code)) {
    return new KvcError(error.code, { detail: error.message, cause: error });
  }
  return undefined;
}

export interface ErrorMapping {
  /** The leader's client address when known (for the `kvcache-leader` trailer). */
  leaderAddress?: () => string | undefined;
  log?: (line: string) => void;
  /** What was being done, for the log line of an unexpected error. */
  what?: string;
}

/** The gRPC status for `error` (see the file comment). */
export function toServiceError(error: unknown, mapping: ErrorMapping = {}): ServiceErrorObject {
  const known = codedError(error);
  const kvc = known ?? new KvcError('KVC_INTERNAL', { detail: errorText(error), cause: error });
  if (known === undefined) mapping.log?.(`internal error${mapping.what ? ` in ${mapping.what}` : ''}: ${errorStack(error)}`);
  const metadata = new grpc.Metadata();
  metadata.set(KVC_CODE_TRAILER, kvc.code);
  for (const [name, value] of Object.entries(kvc.trailers)) metadata.set(`kvc-${name}`, value);
  if (LEADER_CODES.has(kvc.code)) {
    const leader = mapping.leaderAddress?.();
    if (leader) metadata.set(LEADER_TRAILER, leader);
  }
  return { code: grpc.status[kvc.grpcStatus], details: kvc.message, metadata };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorStack(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
