// bit-rot: while one member is stopped (SIGKILL), flip random bytes in its blob files (the
// page payloads), then start it. The member must never serve a damaged page (every read checks
// the page's crc32c) and must repair it: its start-up scrub (src/rpc/payload-repair.ts) finds the
// payloads that fail their crc32c and replaces them with a peer's copy. The heal waits (bounded)
// for the scrub to report, and the detail says what it found; a member that gives up on a page is
// an incident. The integrity checker proves that no get returned bytes no put wrote, and the
// finals that every acknowledged page reads back whole from every member.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../cluster.js';
import { flipBytes, logSinceStart } from '../storage-faults.js';
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const BIT_ROT_LEADER_BIAS = 1 / 3;
/** Blob files damaged, and bytes flipped in each. */
export const BIT_ROT_FILES_MAX = 3;
export const BIT_ROT_BYTES_PER_FILE = 8;
/** How long the heal waits for the member's scrub to report. */
export const SCRUB_WAIT_MS = 20_000;
const SCRUB_POLL_MS = 200;

export async function bitRot(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, BIT_ROT_LEADER_BIAS);
  await ctx.cluster.kill(target.id);
  const blobs = path.join(ctx.cluster.dataDir(target.id), 'store', 'blobs');
  const files = (await readdir(blobs).catch(() => [] as string[])).filter((name) => name.endsWith('.blob'));
  let flipped = 0;
  const chosen = ctx.prng.shuffle(files).slice(0, BIT_ROT_FILES_MAX);
  for (const name of chosen) flipped += await flipBytes(path.join(blobs, name), BIT_ROT_BYTES_PER_FILE, ctx.prng);
  const what = `kill ${describeTarget(target)}, flip ${flipped} bytes in ${chosen.length} of its ${files.length} blob files, restart`;
  return { detail: what, members: [target.id], heal: () => heal(ctx, target.id, what) };
}

async function heal(ctx: NemesisContext, id: number, what: string): Promise<string> {
  await ctx.cluster.start(id);
  const deadline = performance.now() + SCRUB_WAIT_MS;
  for (;;) {
    const log = await logSinceStart(ctx.cluster.logFile(id));
    if (log.includes('payload scrub: every blob payload matches')) return `${what}; its scrub found no damaged payload (the flips hit unreferenced bytes)`;
    const done = /payload repair: done, (\d+) repaired from peers, (\d+) removed meanwhile/.exec(log);
    if (done !== null) return `${what}; its scrub found damaged payloads: ${done[1]} repaired from peers, ${done[2]} removed meanwhile`;
    if (log.includes('payload repair: gave up')) {
      ctx.cluster.incident(`member ${id} could not repair every damaged payload after bit rot (see ${ctx.cluster.logFile(id)})`);
      return `${what}; its repair gave up`;
    }
    if (performance.now() >= deadline) return `${what}; its scrub did not report within ${SCRUB_WAIT_MS} ms`;
    await sleep(SCRUB_POLL_MS);
  }
}
