// bit-rot: while one member is stopped (SIGKILL), flip random bytes in its blob files (the
// page payloads, WAL segments linked in included once the WAL no longer holds them) and in its
// LevelDB files (the newest .log, one .ldb table, and one time in four the MANIFEST or CURRENT),
// then start it. The member must never serve damaged bytes:
//   - blob payloads: every read checks the page's crc32c, and its start-up scrub
//     (src/member/payload-repair.ts) replaces those that fail with a peer's copy;
//   - LevelDB files: the store's open verifies every table block's crc32c (table-check.ts),
//     LevelDB checks its MANIFEST and .log records (a dropped .log record is read from its info
//     log); a damaged store is moved aside and the member rejoins as an empty follower that the
//     leader sends a snapshot (src/node/store-recovery.ts). Only one member is down at a time
//     here, so this disk loss stays on a minority, as Raft requires.
// (Payloads appended after the member's last blob sync are checked at its open and rewritten
// from its WAL first, src/node/wal-payload-repair.ts; the detail says so.)
// The heal waits (bounded) for the scrub to report and, after a rebuild, for the snapshot; the
// detail says what happened; a member that gives up on a page is an incident. The integrity
// checker proves that no get returned bytes no put wrote, and the finals that every
// acknowledged page reads back whole from every member.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../cluster.js';
import { flipBytes, logSinceStart } from '../storage-faults.js';
import { waitCaughtUp } from './membership.js';
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const BIT_ROT_LEADER_BIAS = 1 / 3;
/** Blob files damaged, and bytes flipped in each. */
export const BIT_ROT_FILES_MAX = 3;
export const BIT_ROT_BYTES_PER_FILE = 8;
/** Bytes flipped in each LevelDB file chosen (the .log, a table, sometimes MANIFEST or CURRENT). */
export const BIT_ROT_LEVEL_BYTES = 2;
/** One time in this many the MANIFEST or CURRENT is hit too (LevelDB then refuses to open). */
export const BIT_ROT_MANIFEST_ODDS = 4;
/** How long the heal waits for the member's scrub to report. */
export const SCRUB_WAIT_MS = 20_000;
const SCRUB_POLL_MS = 200;

export async function bitRot(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, BIT_ROT_LEADER_BIAS);
  await ctx.cluster.kill(target.id);
  const blobs = path.join(ctx.cluster.dataDir(target.id), 'store', 'blobs');
  // One kind of file per fault: damaged LevelDB files make the member rebuild its whole store
  // (blob files included), which would hide the blob scrub's repair.
  if (ctx.prng.int(2) === 0) {
    const level = await levelFiles(path.join(ctx.cluster.dataDir(target.id), 'store'), ctx);
    let levelFlipped = 0;
    for (const file of level) levelFlipped += await flipBytes(file, BIT_ROT_LEVEL_BYTES, ctx.prng);
    const names = level.map((file) => path.basename(file)).join(', ');
    const what = `kill ${describeTarget(target)}, flip ${levelFlipped} bytes in its LevelDB files (${names === '' ? 'none found' : names}), restart`;
    return { detail: what, members: [target.id], heal: () => heal(ctx, target.id, what) };
  }
  const files = await payloadFiles(blobs);
  let flipped = 0;
  const chosen = ctx.prng.shuffle(files).slice(0, BIT_ROT_FILES_MAX);
  for (const name of chosen) flipped += await flipBytes(path.join(blobs, name), BIT_ROT_BYTES_PER_FILE, ctx.prng);
  const what = `kill ${describeTarget(target)}, flip ${flipped} bytes in ${chosen.length} of its ${files.length} blob files, restart`;
  return { detail: what, members: [target.id], heal: () => heal(ctx, target.id, what) };
}

/**
 * The files holding page payloads: blob files, and WAL segments linked in (value log) once the WAL
 * has dropped its own name for them. While the WAL still holds a segment, a flipped byte in it is
 * damage to the log, which the wal-tail nemesis covers (damage before a WAL's tail refuses to open
 * by design, docs/WAL.md).
 */
async function payloadFiles(blobs: string): Promise<string[]> {
  const names = await readdir(blobs).catch(() => [] as string[]);
  const files: string[] = [];
  for (const name of names) {
    if (name.endsWith('.blob')) files.push(name);
    else if (name.endsWith('.wal') && (await stat(path.join(blobs, name)).catch(() => undefined))?.nlink === 1) files.push(name);
  }
  return files.sort();
}

async function heal(ctx: NemesisContext, id: number, what: string): Promise<string> {
  await ctx.cluster.start(id);
  const deadline = performance.now() + SCRUB_WAIT_MS;
  for (;;) {
    const log = await logSinceStart(ctx.cluster.logFile(id));
    const rebuilt = /STORE DAMAGED, REBUILDING FROM THE LEADER: (.*?)\. The store and WAL are kept/.exec(log);
    if (rebuilt !== null) {
      // Caught up before the next fault: until then its copy of the log is not one of the majority's.
      const caughtUp = await waitCaughtUp(ctx, id);
      const how = /store: snapshot at applied index \d+ received/.test(await logSinceStart(ctx.cluster.logFile(id))) ? 'a leader snapshot' : "the leader's log";
      if (!caughtUp) ctx.cluster.incident(`member ${id} did not catch up after rebuilding its damaged store (see ${ctx.cluster.logFile(id)})`);
      return `${what}; its store was damaged (${rebuilt[1]}) and rebuilt from ${how}${caughtUp ? '' : ', but it did not catch up'}`;
    }
    // Payloads past the blob mark are checked at open and rewritten from the WAL (wal-payload-repair.ts).
    const fromWal = /(\d+) blob payload\(s\) written after the last blob sync did not read back.*?: (\d+) rewritten from the WAL/.exec(log);
    const atOpen = fromWal === null ? '' : `; at open ${fromWal[1]} damaged payload(s) past its blob mark, ${fromWal[2]} rewritten from its WAL`;
    if (log.includes('payload scrub: every blob payload matches')) {
      return `${what}${atOpen}; its scrub found no damaged payload${atOpen === '' ? ' (the flips hit unreferenced bytes)' : ''}`;
    }
    const done = /payload repair: done, (\d+) repaired from peers, (\d+) removed meanwhile/.exec(log);
    if (done !== null) return `${what}${atOpen}; its scrub found damaged payloads: ${done[1]} repaired from peers, ${done[2]} removed meanwhile`;
    if (log.includes('payload repair: gave up')) {
      ctx.cluster.incident(`member ${id} could not repair every damaged payload after bit rot (see ${ctx.cluster.logFile(id)})`);
      return `${what}; its repair gave up`;
    }
    if (performance.now() >= deadline) return `${what}; its scrub did not report within ${SCRUB_WAIT_MS} ms`;
    await sleep(SCRUB_POLL_MS);
  }
}

/** The LevelDB files to damage: the newest .log, one table, and sometimes MANIFEST or CURRENT. */
async function levelFiles(store: string, ctx: NemesisContext): Promise<string[]> {
  const names = (await readdir(store).catch(() => [] as string[])).sort();
  const out: string[] = [];
  const log = names.filter((name) => name.endsWith('.log')).at(-1);
  if (log !== undefined) out.push(log);
  const table = ctx.prng.shuffle(names.filter((name) => name.endsWith('.ldb'))).at(0);
  if (table !== undefined) out.push(table);
  if (ctx.prng.int(BIT_ROT_MANIFEST_ODDS) === 0) {
    const manifest = ctx.prng.shuffle(names.filter((name) => name === 'CURRENT' || name.startsWith('MANIFEST-'))).at(0);
    if (manifest !== undefined) out.push(manifest);
  }
  return out.map((name) => path.join(store, name));
}
