// Segment files: `<sequence>-<firstIndex>.wal`, both 16 decimal digits, so that a directory
// listing sorts in log order and shows where each segment starts. The first index is the one
// the next entry was expected to take when the segment was created (the last index + 1); an
// overwrite of the tail may later write lower indexes into it, so the name is a guide for
// operators, not something recovery relies on (the segment header is).

import path from 'node:path';
import type { FileLayer } from './file-layer.js';

const NAME_DIGITS = 16;
const SEGMENT_NAME = /^(\d{16})-(\d{16})\.wal$/;

/** One open segment file. */
export interface Segment {
  sequence: number;
  path: string;
  fd: number;
  /** Bytes of whole records in the file (where the next record goes). */
  size: number;
  /** The highest index of any entry record in the file (0 when it holds none). */
  maxEntryIndex: number;
}

export function segmentName(sequence: number, firstIndex: number): string {
  return `${pad(sequence)}-${pad(firstIndex)}.wal`;
}

function pad(value: number): string {
  return String(value).padStart(NAME_DIGITS, '0');
}

export interface SegmentFile {
  sequence: number;
  firstIndex: number;
  path: string;
}

/** The segment files among the names of `dir`, in sequence order. Other names are ignored. */
export function listSegmentFiles(dir: string, names: string[]): SegmentFile[] {
  const files: SegmentFile[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match === null) continue;
    files.push({ sequence: Number(match[1]), firstIndex: Number(match[2]), path: path.join(dir, name) });
  }
  return files.sort((a, b) => a.sequence - b.sequence);
}

/** Creates an empty segment file and makes its name durable (when `fsync`). */
export async function createSegment(
  files: FileLayer,
  dir: string,
  sequence: number,
  firstIndex: number,
  fsync: boolean,
): Promise<Segment> {
  const file = path.join(dir, segmentName(sequence, firstIndex));
  const fd = await files.open(file, 'create');
  if (fsync) await files.fsyncDir(dir);
  return { sequence, path: file, fd, size: 0, maxEntryIndex: 0 };
}

/** Reads a whole segment file into a fresh buffer. */
export async function readWholeFile(files: FileLayer, fd: number): Promise<Uint8Array> {
  const size = await files.size(fd);
  // A fresh (unpooled) buffer: views into it must not share memory with unrelated data.
  const buffer = Buffer.allocUnsafeSlow(size);
  let at = 0;
  while (at < size) {
    const read = await files.read(fd, buffer.subarray(at), at);
    if (read === 0) break;
    at += read;
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, at);
}
