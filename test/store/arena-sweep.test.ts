// Proves the sweep of shared-memory files left by members that are gone (sweepStaleArenaFiles): an
// arena file or a shared lookup index file whose header names a pid that no longer exists is
// removed; a live writer's files, files without the header, and files not named like a member's
// are kept.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SHARED_ARENA_HEADER, SHARED_LOOKUP_HEADER_BYTES, SHARED_LOOKUP_MAGIC, SHARED_LOOKUP_PID_OFFSET } from '../../src/native/index.js';
import { sharedHeader, sweepStaleArenaFiles } from '../../src/store/pinned-memory.js';

function headerWithPid(pid: number): Uint8Array {
  const header = sharedHeader(new Uint8Array(16), 0, 1, 2 * 1024 * 1024, 4096);
  new DataView(header.buffer).setUint32(SHARED_ARENA_HEADER.offsets.pid, pid, true);
  return header;
}

t.test('arena files of dead writers go, everything else stays', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kvc-sweep-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const exited = spawnSync(process.execPath, ['-e', '0']);
  const deadPid = exited.pid!;
  t.throws(() => process.kill(deadPid, 0), { code: 'ESRCH' }, 'the child is gone');

  const dead = path.join(dir, 'kvc-n1-dead-0.arena');
  const live = path.join(dir, 'kvc-n2-live-0.arena');
  const junk = path.join(dir, 'kvc-n3-junk-0.arena');
  const short = path.join(dir, 'kvc-n4-short-0.arena');
  const foreign = path.join(dir, 'other-0.arena');
  writeFileSync(dead, headerWithPid(deadPid));
  writeFileSync(live, headerWithPid(process.pid));
  writeFileSync(junk, new Uint8Array(SHARED_ARENA_HEADER.bytes));
  writeFileSync(short, new Uint8Array(8));
  writeFileSync(foreign, headerWithPid(deadPid));
  const indexHeader = (pid: number): Uint8Array => {
    const header = new Uint8Array(SHARED_LOOKUP_HEADER_BYTES);
    header.set(Buffer.from(SHARED_LOOKUP_MAGIC, 'ascii'), 0);
    new DataView(header.buffer).setUint32(SHARED_LOOKUP_PID_OFFSET, pid, true);
    return header;
  };
  const deadIndex = path.join(dir, 'kvc-n1-dead-lookup-3.idx');
  const liveIndex = path.join(dir, 'kvc-n2-live-lookup-1.idx');
  const junkIndex = path.join(dir, 'kvc-n3-junk-lookup-1.idx');
  writeFileSync(deadIndex, indexHeader(deadPid));
  writeFileSync(liveIndex, indexHeader(process.pid));
  writeFileSync(junkIndex, new Uint8Array(8));

  const lines: string[] = [];
  t.same(sweepStaleArenaFiles(dir, (line) => lines.push(line)), [dead, deadIndex]);
  t.notOk(existsSync(dead), 'the dead writer\'s file is removed');
  t.notOk(existsSync(deadIndex), 'and its lookup index');
  for (const kept of [live, liveIndex, junkIndex, junk, short, foreign]) t.ok(existsSync(kept), `${path.basename(kept)} is kept`);
  t.match(lines.join('\n'), /removed 2 shared-memory file\(s\) of members that are gone/);
  t.same(sweepStaleArenaFiles(path.join(dir, 'missing')), [], 'a missing directory sweeps nothing');
});
