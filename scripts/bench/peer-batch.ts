// Micro-benchmark of the leader's sending work for one Ready (issue 11 item 4, one copy per hop):
// a MsgApp of N entries encoded into a RaftBatch for each of two followers, and the copy grpc-js
// makes of each batch into its frame (compression-filter.js: allocUnsafe(length + 5) and a copy,
// reproduced here so the figures hold the whole per-follower cost). Two ways, interleaved in one
// process: "protobufjs" is the path before (encodeMessage per follower, then proto-loader's
// serializer), "parts" the path now (encodeMessageParts, large payloads by reference, then
// src/rpc/raft-batch-codec.ts). Fresh buffers, as in a member: their page faults and the garbage
// collector's work count, which is why the figure is process CPU (process.cpuUsage: every
// thread, GC helpers included) per MiB of entries, the median of several blocks of Readies, with
// glibc malloc tuned as in every kvc process (src/native tuneAllocator; KVC_MALLOC_TUNING=0: not).
// Run: node --import tsx scripts/bench/peer-batch.ts [--json]
import { pathToFileURL } from 'node:url';
import { encodeMessage, encodeMessageParts } from '../../src/codec/index.js';
import type { RaftBatch } from '../../src/proto/index.js';
import { tuneAllocator } from '../../src/native/index.js';
import { EntryType, MessageType, type Message } from '../../src/raft/index.js';
import { loadProtos } from '../../src/rpc/protos.js';
import { serializeRaftBatch } from '../../src/rpc/raft-batch-codec.js';
import { quantile } from './measure.js';

const MIB = 1024 * 1024;
const FOLLOWERS = [2, 3];
const READIES_PER_BLOCK = 10;
const BLOCKS = 7;
/** One Ready's appends as `kvc bench` makes them: 8 puts in flight. */
const CASES = [
  { entries: 8, entryBytes: 1 * MIB },
  { entries: 8, entryBytes: 2 * MIB },
];

export interface PeerBatchResult {
  name: string;
  entries: number;
  entryBytes: number;
  cpuMsPerMiB: number;
  wallMsPerMiB: number;
}

function append(entries: number, entryBytes: number): Message {
  const data = Array.from({ length: entries }, (_, i) => new Uint8Array(entryBytes).fill(i + 1));
  return {
    type: MessageType.App, to: 0, from: 1, term: 3, logTerm: 3, index: 1000, commit: 999, reject: false, rejectHint: 0,
    entries: data.map((d, i) => ({ term: 3, index: 1001 + i, type: EntryType.Normal, data: d })),
  };
}

/** What grpc-js does with a serialized message before HTTP/2 takes it. */
function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length + 5);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

const encodeGeneric = loadProtos().peer.Raft!.requestSerialize as (batch: RaftBatch) => Buffer;

const WAYS: Record<string, (m: Message) => number> = {
  protobufjs: (m) => {
    let bytes = 0;
    for (const to of FOLLOWERS) bytes += frame(encodeGeneric({ from: 1, to, messages: [encodeMessage({ ...m, to })], fromAddress: '127.0.0.1:7001' })).length;
    return bytes;
  },
  parts: (m) => {
    let bytes = 0;
    for (const to of FOLLOWERS) bytes += frame(serializeRaftBatch({ from: 1, to, messages: [encodeMessageParts({ ...m, to })], fromAddress: '127.0.0.1:7001' })).length;
    return bytes;
  },
};

export function benchPeerBatch(): PeerBatchResult[] {
  const results: PeerBatchResult[] = [];
  for (const c of CASES) {
    const m = append(c.entries, c.entryBytes);
    const mib = (c.entries * c.entryBytes * READIES_PER_BLOCK) / MIB;
    const samples = new Map(Object.keys(WAYS).map((name) => [name, { cpu: [] as number[], wall: [] as number[] }]));
    const ways = Object.entries(WAYS);
    // One unmeasured block (JIT, the allocator's first growth), then blocks in alternating order.
    for (const [, way] of ways) way(m);
    for (let block = 0; block < BLOCKS; block++) {
      for (const [name, way] of block % 2 === 0 ? ways : [...ways].reverse()) {
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        for (let i = 0; i < READIES_PER_BLOCK; i++) way(m);
        const cpu = process.cpuUsage(cpuBefore);
        samples.get(name)!.wall.push((performance.now() - started) / mib);
        samples.get(name)!.cpu.push((cpu.user + cpu.system) / 1000 / mib);
      }
    }
    for (const [name, s] of samples) {
      results.push({ name, entries: c.entries, entryBytes: c.entryBytes, cpuMsPerMiB: quantile(s.cpu, 0.5), wallMsPerMiB: quantile(s.wall, 0.5) });
    }
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  tuneAllocator();
  const results = benchPeerBatch();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    console.log(`per MiB of entries, ${FOLLOWERS.length} followers, median of ${BLOCKS} blocks of ${READIES_PER_BLOCK} Readies`);
    for (const r of results) {
      const label = `${r.name}: ${r.entries} × ${r.entryBytes / MIB} MiB`;
      console.log(`${label.padEnd(28)} CPU ${r.cpuMsPerMiB.toFixed(2).padStart(6)} ms/MiB   wall ${r.wallMsPerMiB.toFixed(2).padStart(6)} ms/MiB`);
    }
  }
}
