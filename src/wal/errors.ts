// The operating errors of the WAL. Both stop the member: a damaged log cannot be trusted to
// vote or acknowledge, and after a failed write or fsync the bytes on disk are in doubt
// (Linux may drop dirty pages after a failed fsync, so retrying the fsync proves nothing).
// WalCorruptionError is the registered KVC_WAL_CORRUPT (src/errors.ts); WalFailedError never
// leaves the member (the node halts on it), so its code is local to this folder.

import { KvcError } from '../errors.js';

export const WAL_CORRUPT_CODE = 'KVC_WAL_CORRUPT';
export const WAL_FAILED_CODE = 'KVC_WAL_FAILED';

/**
 * A WAL record that cannot be trusted: a bad checksum, a malformed body, or a record that
 * contradicts the ones before it, anywhere except the torn tail of the last segment. `file` is
 * the segment's path and `offset` the byte where the damaged record starts.
 */
export class WalCorruptionError extends KvcError {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string, advice: string, options?: { cause?: unknown }) {
    super(WAL_CORRUPT_CODE, {
      detail: `WAL segment ${file} is damaged at offset ${offset}: ${reason}. ${advice}`,
      ...(options?.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = 'WalCorruptionError';
    this.file = file;
    this.offset = offset;
  }
}

/** How to get past damage found while opening the log (see docs/WAL.md, "Repair"). */
export const REPAIR_ADVICE =
  'Records before this offset are intact. To start anyway, open the WAL with repair: true ' +
  '(node config wal.repair; `kvc start --repair` once the CLI has it), which truncates the log at this ' +
  'offset and deletes every later segment, losing the records from here on; see docs/WAL.md. ' +
  'Safer: wipe this member\'s data directory and let it catch up from the leader';

/** Damage that truncation cannot fix: the log would have a hole in the middle. */
export const WIPE_ADVICE =
  'Truncating cannot repair this (the log would keep a hole). Wipe this member\'s data directory ' +
  'and let it catch up from the leader through a snapshot; see docs/WAL.md';

/** Damage found when reading an entry back after the log was opened. */
export const READ_ADVICE =
  'The segment changed on disk after the WAL was opened (or the disk returned bad data). Restart ' +
  'the member: opening the WAL checks every record and reports the damage; see docs/WAL.md';

/** A write or fsync failed earlier: the WAL refuses every later write until it is reopened. */
export class WalFailedError extends Error {
  readonly code = WAL_FAILED_CODE;

  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `WAL write failed earlier (${reason}); the log on disk is in doubt and takes no more writes. ` +
        'Close it and open it again: recovery keeps every record that reached the disk whole',
      { cause },
    );
    this.name = 'WalFailedError';
  }
}
