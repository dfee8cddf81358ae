// Lookup's CPU per lookup with the client and a member in ONE process: rounds of 100 lookups of
// 16 stored keys issued together (the scheduler's shape of issue 12 item 2), one member started
// in this process on a loopback port, KvcClient talking to it over real gRPC. With both sides on
// one thread a round's time is the CPU of 100 lookups, client and member together, without the
// scheduling noise of separate processes on a shared machine: the harness to measure a change of
// the lookup path against, and to profile (`node --cpu-prof --import tsx ...`: one profile holds
// both sides).
//
//   node --import tsx scripts/bench/lookup-inprocess.ts [--rounds N] [--together N] [--members N] [--calls N] [--json]
//
// --members 3 starts three members in this process (the client's calls go to followers too, which
// note each matched page for the leader's access report); --calls sets the client's lookupCallsMax
// (default 2, the client's own default).
//
// Prints the round time (min / p50 / p99, ms) and CPU per lookup (µs, the process's user + system
// time over the measured rounds); with --json, one JSON object as the last stdout line.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KvcClient } from '../../src/client/index.js';
import { startMember } from '../../src/member/index.js';
import { freeLoopbackPorts } from '../../src/config/index.js';
import { quantile, round, withTempDir } from './measure.js';
import { BENCH_NS, PageGenerator, benchPageKey } from './pages.js';

const LOOKUP_KEYS = 16;
const STORED_PAGES = 64;
const PAGE_BYTES = 4096;
const TOKENS_PER_PAGE = 256;
const WARMUP_ROUNDS = 50;
const MICROSECONDS_PER_MILLISECOND = 1000;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '400' },
    together: { type: 'string', default: '100' },
    members: { type: 'string', default: '1' },
    calls: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const together = Number(values.together);
const memberCount = Number(values.members);
const callsMax = Number(values.calls);

await withTempDir('kvc-lookup-', async (dir) => {
  const ports = await freeLoopbackPorts(memberCount);
  const addresses = ports.map((port, i) => ({ id: i + 1, address: `127.0.0.1:${port}` }));
  const members = await Promise.all(
    addresses.map(({ id, address }) => startMember({ id, listen: address, members: addresses, dataDir: path.join(dir, `m${id}`), node: { tickMs: 10, fsync: false }, logger: () => undefined })),
  );
  const client = new KvcClient({ endpoints: addresses.map((m) => m.address), lookupCallsMax: callsMax });
  try {
    const pages = new PageGenerator(PAGE_BYTES);
    for (let deadline = Date.now() + 10_000; !members.some((m) => m.node.isLeader()); ) {
      if (Date.now() > deadline) throw new Error('no member became leader');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (let i = 0; i < STORED_PAGES; i++) {
      const meta = { namespace: BENCH_NS, key: benchPageKey(i), dtype: 'u8' as const, shape: [PAGE_BYTES], tokens: TOKENS_PER_PAGE, ...(i > 0 ? { parentKey: benchPageKey(i - 1) } : {}) };
      const [outcome] = await client.putPages([{ meta, data: pages.payload(i) }]);
      if (outcome?.code !== '') throw new Error(`put ${i} refused: ${outcome?.code}`);
    }
    const windows = STORED_PAGES - LOOKUP_KEYS + 1;
    const prompts = Array.from({ length: windows }, (_, first) => Array.from({ length: LOOKUP_KEYS }, (_, k) => benchPageKey(first + k)));
    let next = 0;
    const round1 = async (): Promise<void> => {
      const answers = await Promise.all(Array.from({ length: together }, () => client.lookup(BENCH_NS, prompts[next++ % windows]!)));
      if (answers.some((matched) => matched !== LOOKUP_KEYS)) throw new Error('a lookup missed a stored key');
    };
    for (let r = 0; r < WARMUP_ROUNDS; r++) await round1();
    const times: number[] = [];
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      await round1();
      times.push(performance.now() - t);
    }
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const result = {
      rounds,
      together,
      members: memberCount,
      lookupCallsMax: callsMax,
      keys: LOOKUP_KEYS,
      roundMsMin: round(quantile(times, 0), 3),
      roundMsP50: round(quantile(times, 0.5), 3),
      roundMsP99: round(quantile(times, 0.99), 3),
      cpuUsPerLookup: round((used.user + used.system) / (rounds * together), 2),
      wallUsPerLookup: round((elapsedMs * MICROSECONDS_PER_MILLISECOND) / (rounds * together), 2),
    };
    console.log(
      `${rounds} rounds of ${together} lookups of ${LOOKUP_KEYS} keys, client and ${memberCount} member(s) in one process: round ms min ${result.roundMsMin} / p50 ${result.roundMsP50} / p99 ${result.roundMsP99}; CPU ${result.cpuUsPerLookup} µs per lookup`,
    );
    if (values.json) console.log(JSON.stringify(result));
  } finally {
    client.close();
    await Promise.all(members.map((m) => m.stop()));
  }
});
