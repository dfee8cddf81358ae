// Proves `kvc trace replay` end to end with real processes: against a one-member `kvc dev`
// cluster, replaying the first 200 requests of the Mooncake trace one at a time serves exactly the
// blocks an infinite cache would (blockHits equals the offline simulator's hits, computed here
// from the same records, and hitRatio equals its offline.infinite), reads and puts every other
// block without refusals, and prints one JSON line; the default output is a table. A member is
// one process, so no follower lags behind a put and under-reports the next Lookup: the equality
// is exact. Bad input (a missing file, a bad record, a bad option) fails with one line naming it,
// before any connection. A second scenario, a cluster whose budget holds C pages, must do at least
// as well as an LRU of its low watermark (0.85 C), evict, and refuse no put (the budget and a
// grace window of 0 are set with `kvc config set`). The trace lives beside the repository
// (../shared/traces); a clone without it skips the replays.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TraceResult } from '../../src/cli/commands/trace.js';
import { infiniteCacheHits } from '../../src/cli/trace-offline.js';
import { readTrace } from '../../src/cli/trace-records.js';
import { freePortRange, runKvc, startDev } from './helpers.js';

const TRACE = fileURLToPath(new URL('../../../shared/traces/mooncake-synthetic.jsonl', import.meta.url));
const TRACE_ABSENT = existsSync(TRACE) ? false : 'trace ../shared/traces/mooncake-synthetic.jsonl is absent (a clone without ../shared)';
/** 200 requests are 5,330 block refs, 323 of them hits: a few seconds on two slow cores. */
const REQUESTS = 200;
const PAGE_SIZE = '4KiB';
/** A replay of a few thousand small pages; generous for a loaded machine. */
const REPLAY_TIMEOUT_MS = 60_000;
/** Eviction scenario: 512 pages of 64 KiB fill the smallest budget the config accepts (32 MiB). */
const EVICTION_PAGE_BYTES = 64 * 1024;
const EVICTION_BUDGET_PAGES = 512;
const EVICTION_REQUESTS = 100;
/** LIMITS.eviction.lowWatermarkRatio: what the cluster keeps after evicting. */
const LOW_WATERMARK_RATIO = 0.85;

/** The `--json` line: the command's own result type. */
type ReplayJson = TraceResult;

/** The last stdout line as the replay's JSON. */
function lastJson(stdout: string): ReplayJson {
  return JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as ReplayJson;
}

async function oneMemberCluster(t: Parameters<typeof startDev>[0]): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-trace-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const basePort = await freePortRange(1);
  const dev = await startDev(t, ['--nodes', '1', '--base-port', String(basePort), '--dir', path.join(dir, 'cluster')]);
  return ['--endpoints', dev.line.endpoints.join(',')];
}

t.test('bad input fails with one line, before any connection', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-trace-input-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const nowhere = ['--endpoints', '127.0.0.1:1'];
  const missing = await runKvc(['trace', 'replay', path.join(dir, 'absent.jsonl'), ...nowhere]);
  t.equal(missing.code, 1, 'a missing file fails');
  t.match(missing.stderr, /^kvc trace replay: cannot read trace: ENOENT: no such file or directory[^\n]*\n$/);
  const bad = path.join(dir, 'bad.jsonl');
  await writeFile(bad, '{"timestamp": 0, "input_length": 512, "output_length": 1, "hash_ids": [0]}\n\n{"timestamp": 1, "hash_ids": [0]}\n');
  const badLine = await runKvc(['trace', 'replay', bad, ...nowhere]);
  t.equal(badLine.code, 1, 'a bad record fails');
  t.equal(badLine.stderr, `kvc trace replay: ${bad} line 3: "input_length" must be a non-negative integer, got undefined\n`, 'naming its line');
  const badOption = await runKvc(['trace', 'replay', bad, '--speed', 'fast']);
  t.equal(badOption.code, 2, 'a bad option is a usage error');
  t.match(badOption.stderr, /--speed <x>.*"fast"/);
});

t.test('one request at a time, the cluster serves what an infinite cache would', { skip: TRACE_ABSENT }, async (t) => {
  const endpoints = await oneMemberCluster(t);
  const args = ['--limit', String(REQUESTS), '--page-bytes', PAGE_SIZE, '--offline', '100000', '--concurrency', '1'];
  const run = await runKvc(['trace', 'replay', TRACE, ...endpoints, ...args, '--json', '--progress'], { timeoutMs: REPLAY_TIMEOUT_MS });
  t.equal(run.code, 0, `replay exits 0 (${run.stderr})`);
  t.equal(run.stdout.trim().split('\n').length, 1, 'one JSON line on stdout');
  t.match(run.stderr, new RegExp(`^replay\\s+█+ ${REQUESTS}/${REQUESTS}  hit ratio [\\d.]+\\n`, 'm'), '--progress: the replay\'s progress on stderr, ending at every request');
  const result = lastJson(run.stdout);
  t.same(Object.keys(result), ['requests', 'blockRefs', 'blockHits', 'hitRatio', 'requestsPerSec', 'getMBps', 'putMBps', 'evictedPages', 'putsRefused', 'lookupP99Ms', 'offline']);

  const requests = await readTrace((await readFile(TRACE, 'utf8')).split('\n'), REQUESTS);
  const expected = infiniteCacheHits(requests.map((r) => r.hashIds));
  t.equal(result.requests, REQUESTS);
  t.equal(result.blockRefs, expected.blockRefs, 'every hash id is a block ref');
  t.equal(result.blockHits, expected.hits, 'the hits are the infinite cache hits');
  t.ok(expected.hits > 0, 'and there are some: the trace shares prefixes early on');
  t.equal(result.hitRatio, result.offline!.infinite, 'hitRatio equals offline.infinite exactly');
  t.equal(result.offline!.capacityBlocks, 100_000);
  t.equal(result.offline!.lru, result.offline!.infinite, 'an LRU larger than the trace is the infinite cache');
  t.equal(result.putsRefused, 0);
  t.equal(result.evictedPages, 0, 'the default budget holds these pages');
  for (const field of ['requestsPerSec', 'getMBps', 'putMBps', 'lookupP99Ms'] as const) t.ok(result[field] > 0, `${field} is positive`);
  t.notMatch(run.stderr, /\r/, 'no progress bar when stderr is not a terminal');

  // The namespace was dropped at the end, so a paced replay of a few requests starts cold again.
  const human = await runKvc(['trace', 'replay', TRACE, ...endpoints, '--limit', '5', '--page-bytes', '1KiB', '--speed', '1000'], { timeoutMs: REPLAY_TIMEOUT_MS });
  t.equal(human.code, 0, `a table by default (${human.stderr})`);
  t.match(human.stdout, /^kvc trace replay: 5 requests of .*, 1.0 KiB per block, 1 in flight, at 1000x the trace's pace/);
  t.match(human.stdout, /FIGURE\s+VALUE\n/);
  t.match(human.stdout, /\nblock hits\s+0\n/, 'nothing is left from the first replay');
  t.notMatch(human.stdout, /offline/, 'no offline figures without --offline');
});

t.test(
  'under a budget of C pages the cluster does at least as well as an LRU of 0.85 C blocks',
  { skip: TRACE_ABSENT },
  async (t) => {
    const endpoints = await oneMemberCluster(t);
    for (const [key, value] of [['budgetBytes', String(EVICTION_BUDGET_PAGES * EVICTION_PAGE_BYTES)], ['evictionGraceMs', '0']]) {
      const set = await runKvc(['config', 'set', key!, value!, ...endpoints]);
      t.equal(set.code, 0, `config set ${key} ${value} (${set.stderr})`);
    }
    const capacityBlocks = Math.floor(EVICTION_BUDGET_PAGES * LOW_WATERMARK_RATIO);
    const args = ['--limit', String(EVICTION_REQUESTS), '--page-bytes', `${EVICTION_PAGE_BYTES}`, '--offline', String(capacityBlocks), '--json'];
    const run = await runKvc(['trace', 'replay', TRACE, ...endpoints, ...args], { timeoutMs: REPLAY_TIMEOUT_MS });
    t.equal(run.code, 0, `replay exits 0 (${run.stderr})`);
    const result = lastJson(run.stdout);
    t.ok(result.evictedPages > 0, `the cluster evicted (${result.evictedPages} pages)`);
    t.equal(result.putsRefused, 0, 'eviction made room for every put');
    t.ok(result.hitRatio >= result.offline!.lru, `hit ratio ${result.hitRatio} >= LRU of ${capacityBlocks} blocks ${result.offline!.lru}`);
  },
);
