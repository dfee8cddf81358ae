// What the disk allows for the store's write pattern, measured in the same run as the cluster:
// `Wal.save` alone (the WAL's framing, checksums and one fdatasync per batch, no Raft, no
// LevelDB), and a plain `writev` + `fdatasync` of the same bytes (no framing, no checksums). A
// replicated put has to do at least the WAL's work on every member, so these bound it from above.
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Appender, type AppendMode } from '../../src/io/index.js';
import { EntryType, type Entry } from '../../src/raft/index.js';
import { Wal } from '../../src/wal/index.js';
import { quantile } from './measure.js';
import type { PageGenerator } from './pages.js';

export interface CeilingPlan {
  /** Entries written by one save (one fdatasync). */
  entriesPerSave: number;
  /** Stop after this many bytes... */
  bytesMax: number;
  /** ...or after this long, whichever comes first. */
  durationMsMax: number;
}

export interface CeilingRun {
  bytes: number;
  elapsedMs: number;
  saves: number;
  saveLatencyMsP50: number;
}

function finish(bytes: number, started: number, latenciesMs: number[]): CeilingRun {
  return { bytes, elapsedMs: performance.now() - started, saves: latenciesMs.length, saveLatencyMsP50: quantile(latenciesMs, 0.5) };
}

/** `Wal.save` of batches of page-sized entries with fsync on, in a fresh WAL under `dir`. */
export async function walSaveCeiling(dir: string, pages: PageGenerator, plan: CeilingPlan): Promise<CeilingRun> {
  const wal = await Wal.open({ dir: path.join(dir, 'wal-ceiling'), fsync: true, logger: () => {} });
  const latenciesMs: number[] = [];
  let index = 0;
  let bytes = 0;
  const started = performance.now();
  try {
    while (bytes < plan.bytesMax && performance.now() - started < plan.durationMsMax) {
      const entries: Entry[] = [];
      for (let k = 0; k < plan.entriesPerSave; k++) {
        index++;
        entries.push({ term: 1, index, type: EntryType.Normal, data: pages.payload(index) });
      }
      const sent = performance.now();
      await wal.save({ entries, hardState: { term: 1, vote: 1, commit: index } });
      latenciesMs.push(performance.now() - sent);
      bytes += plan.entriesPerSave * pages.pageBytes;
    }
    return finish(bytes, started, latenciesMs);
  } finally {
    await wal.close();
  }
}

/** One positioned `writev` of `chunks` (`batchBytes` in all); writev may write less than asked (a signal, a large batch), and the rest follows. */
async function writevAll(file: FileHandle, chunks: Uint8Array[], batchBytes: number, position: number): Promise<void> {
  let written = 0;
  while (written < batchBytes) {
    const rest = written === 0 ? chunks : [Buffer.concat(chunks).subarray(written)];
    written += (await file.writev(rest, position + written)).bytesWritten;
  }
}

/**
 * A plain file: one positioned `writev` of a batch's payloads, then `fdatasync`, repeated. With
 * `mode`, the batch goes through an Appender of that mode (src/io, as members write their WAL and
 * blob files: 'dropped' by default, or 'direct', O_DIRECT) and is synced through it.
 */
export async function plainWriteCeiling(dir: string, pages: PageGenerator, plan: CeilingPlan, o: { mode?: AppendMode } = {}): Promise<CeilingRun> {
  const name = path.join(dir, `${o.mode ?? 'plain'}-ceiling.bin`);
  const file = await open(name, 'w');
  const appender = o.mode === undefined ? undefined : await Appender.open(name, 0, { mode: o.mode });
  const latenciesMs: number[] = [];
  let bytes = 0;
  let page = 0;
  const started = performance.now();
  try {
    while (bytes < plan.bytesMax && performance.now() - started < plan.durationMsMax) {
      const chunks = Array.from({ length: plan.entriesPerSave }, () => pages.payload(page++));
      const sent = performance.now();
      const batchBytes = plan.entriesPerSave * pages.pageBytes;
      if (appender !== undefined) {
        await appender.write(chunks, bytes);
        await appender.datasync();
      } else {
        await writevAll(file, chunks, batchBytes, bytes);
        await file.datasync();
      }
      latenciesMs.push(performance.now() - sent);
      bytes += batchBytes;
    }
    return finish(bytes, started, latenciesMs);
  } finally {
    await appender?.close();
    await file.close();
  }
}
