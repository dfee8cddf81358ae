// Opening a WAL directory: every segment is read in order and every record checked (length,
// checksum, body, and agreement with the records before it) while the in-memory index is
// rebuilt. What is wrong decides what happens:
// - the last record of the last segment is cut short or fails its checksum, with nothing but
//   zeros after it: an append interrupted by a crash (never acknowledged, since the fsync had
//   not returned). It is truncated away and logged with file and offset;
// - anything else is damage to records that were durable: a WalCorruptionError naming file and
//   offset, unless `repair` is set, in which case the log is truncated at the damaged record,
//   later segments are deleted, and what was lost is logged.

import path from 'node:path';
import { decodeEntry, decodeHardState, isCodecError } from '../codec/index.js';
import { REPAIR_ADVICE, WIPE_ADVICE, WalCorruptionError } from './errors.js';
import type { FileLayer } from './file-layer.js';
import {
  RecordBodyError,
  RecordType,
  decodeCompactionBody,
  decodeSegmentHeaderBody,
  decodeSnapshotBody,
  isFrameDamage,
  readFrame,
} from './record.js';
import type { FrameDamage, FramedRecord } from './record.js';
import { Replay, ReplayError } from './replay.js';
import { createSegment, listSegmentFiles, readWholeFile } from './segment.js';
import type { Segment, SegmentFile } from './segment.js';

export interface RecoveryOptions {
  dir: string;
  files: FileLayer;
  fsync: boolean;
  repair: boolean;
  cacheBytesMax: number;
  logger: (line: string) => void;
}

export interface Recovered {
  replay: Replay;
  /** Every segment, open, in order; the last one takes the next records. */
  segments: Segment[];
  /** True when no segment held a record (a new log). */
  fresh: boolean;
}

export async function recover(options: RecoveryOptions): Promise<Recovered> {
  const { dir, files } = options;
  await files.mkdirp(dir);
  const list = listSegmentFiles(dir, await files.readdir(dir));
  const replay = new Replay(options.cacheBytesMax);
  if (list.length === 0) {
    const first = await createSegment(files, dir, 1, 1, options.fsync);
    // The directory itself may be new: make its entry in the parent durable too.
    if (options.fsync) await files.fsyncDir(path.dirname(dir));
    return { replay, segments: [first], fresh: true };
  }
  const segments: Segment[] = [];
  try {
    for (let k = 0; k < list.length; k++) {
      const file = list[k]!;
      const segment: Segment = { sequence: file.sequence, path: file.path, fd: -1, size: 0, maxEntryIndex: 0 };
      segment.fd = await files.open(file.path, 'read-write');
      segments.push(segment);
      const previous = list[k - 1];
      const damage =
        previous !== undefined && file.sequence !== previous.sequence + 1
          ? { offset: 0, reason: `segment ${previous.sequence + 1} is missing before it`, tailLike: false }
          : await scanSegment(files, segment, replay, k === list.length - 1);
      if (damage === undefined) continue;
      await handleDamage(options, list, k, segments, damage, replay);
      break;
    }
    if (replay.hasHole) {
      const first = list[0]!;
      const reason = `entries ${replay.compactIndex + 1} to ${replay.log.dummyIndex} are missing (a segment holding them was deleted before they were compacted)`;
      throw new WalCorruptionError(first.path, 0, reason, WIPE_ADVICE);
    }
  } catch (error) {
    await Promise.allSettled(segments.map((segment) => files.close(segment.fd)));
    throw error;
  }
  return { replay, segments, fresh: replay.snapshot === undefined };
}

/** Reads and replays one segment; returns the first damage found, or undefined. */
async function scanSegment(
  files: FileLayer,
  segment: Segment,
  replay: Replay,
  isLast: boolean,
): Promise<FrameDamage | undefined> {
  const buffer = await readWholeFile(files, segment.fd);
  if (buffer.byteLength === 0 && !isLast) {
    return { offset: 0, reason: 'an empty segment before the last one', tailLike: false };
  }
  let offset = 0;
  let records = 0;
  while (offset < buffer.byteLength) {
    const frame = readFrame(buffer, offset);
    if (isFrameDamage(frame)) return frame;
    try {
      applyRecord(frame, records === 0, segment, replay);
    } catch (error) {
      if (!(error instanceof ReplayError || error instanceof RecordBodyError || isCodecError(error))) throw error;
      return { offset, reason: `a record that does not fit the log (${error.message})`, tailLike: false };
    }
    offset += frame.bytes;
    segment.size = offset;
    records++;
  }
  return undefined;
}

function applyRecord(frame: FramedRecord, first: boolean, segment: Segment, replay: Replay): void {
  if (first !== (frame.type === RecordType.SegmentHeader)) {
    throw new ReplayError(first ? 'the segment does not start with its header' : 'a segment header inside a segment');
  }
  switch (frame.type) {
    case RecordType.SegmentHeader:
      replay.header(decodeSegmentHeaderBody(frame.body), segment.sequence);
      return;
    case RecordType.Entry: {
      const entry = decodeEntry(frame.body);
      replay.entry(entry, { segment: segment.sequence, offset: frame.offset, recordBytes: frame.bytes });
      segment.maxEntryIndex = Math.max(segment.maxEntryIndex, entry.index);
      return;
    }
    case RecordType.HardState:
      replay.hardStateRecord(decodeHardState(frame.body));
      return;
    case RecordType.Snapshot:
      replay.snapshotRecord(decodeSnapshotBody(frame.body));
      return;
    case RecordType.Compaction:
      replay.compaction(decodeCompactionBody(frame.body));
      return;
  }
}

/**
 * A torn tail is cut off; other damage is an error, or with `repair` the log is cut there and
 * the later segments (not opened yet) are deleted.
 */
async function handleDamage(
  options: RecoveryOptions,
  list: SegmentFile[],
  k: number,
  segments: Segment[],
  damage: FrameDamage,
  replay: Replay,
): Promise<void> {
  const { files, logger } = options;
  const segment = segments[k]!;
  const fileBytes = await files.size(segment.fd);
  const isLast = k === list.length - 1;
  if (isLast && damage.tailLike) {
    await truncateSegment(options, segment, damage.offset);
    logger(
      `wal: torn tail in ${segment.path} at offset ${damage.offset} (${damage.reason}); ` +
        `truncated ${fileBytes - damage.offset} bytes, the log ends at index ${replay.log.lastIndex()}`,
    );
    return;
  }
  if (!options.repair) throw new WalCorruptionError(segment.path, damage.offset, damage.reason, REPAIR_ADVICE);
  const later = list.slice(k + 1);
  if (damage.offset === 0 && k > 0) {
    // Nothing of this segment is usable: drop it too, so the previous one stays the last.
    await files.close(segment.fd);
    segments.pop();
    await files.unlink(segment.path);
  } else {
    await truncateSegment(options, segment, damage.offset);
  }
  for (const file of later) await files.unlink(file.path);
  if (options.fsync) await files.fsyncDir(options.dir);
  logger(
    `wal: REPAIR: ${segment.path} is damaged at offset ${damage.offset} (${damage.reason}); truncated the log ` +
      `there, dropping ${fileBytes - damage.offset} bytes of it` +
      (later.length > 0 ? ` and ${later.length} later segments (${later.map((f) => f.path).join(', ')})` : '') +
      `; the log now ends at index ${replay.log.lastIndex()}. Entries after it are lost on this member.`,
  );
}

async function truncateSegment(options: RecoveryOptions, segment: Segment, length: number): Promise<void> {
  await options.files.truncate(segment.fd, length);
  if (options.fsync) await options.files.fdatasync(segment.fd);
  segment.size = length;
}
