// Proves that the default limits (src/limits.ts) are frozen and satisfy their relations, that
// operator overrides are applied and checked, and that each relation the module asserts really
// rejects a configuration that breaks it.

import t from 'tap';
import { LIMITS, assertLimitRelations, resolveLimits } from '../src/limits.js';
import type { LimitOverrides } from '../src/limits.js';

const MIB = 1024 * 1024;

t.test('the defaults hold their relations and are frozen', async (t) => {
  t.doesNotThrow(() => assertLimitRelations(LIMITS), 'the defaults pass');
  t.ok(Object.isFrozen(LIMITS), 'the object is frozen');
  for (const [name, section] of Object.entries(LIMITS)) t.ok(Object.isFrozen(section), `${name} is frozen`);
  t.throws(() => {
    (LIMITS.raft as { electionTick: number }).electionTick = 1;
  }, TypeError, 'assigning a limit throws in strict mode');
});

t.test('the defaults are the documented values', async (t) => {
  t.match(LIMITS.raft, {
    tickMs: 50, electionTick: 10, heartbeatTick: 1, maxInflightMsgs: 256,
    maxInflightBytes: 64 * MIB, maxUncommittedEntriesBytes: 1024 * MIB,
  });
  t.ok(LIMITS.raft.entryBytesMax > 32 * MIB, 'an entry holds a 32 MiB page and its metadata');
  t.match(LIMITS.page, { bytesMax: 32 * MIB, keyBytesMin: 8, keyBytesMax: 64, chunkBytes: 1 * MIB });
  t.equal(LIMITS.namespace.lengthMax, 128);
  t.same(LIMITS.wal, { segmentBytes: 64 * MIB, entryCacheBytes: 64 * MIB });
  t.same(LIMITS.memoryTier, { arenaBytes: 256 * MIB, smallArenaBytes: 32 * MIB }, 'a config member gets 256 MiB, one started in code 32 MiB');
  t.same(LIMITS.compaction, { triggerWalBytes: 64 * MIB, triggerEntries: 10_000, triggerIntervalMs: 300_000, keepEntries: 1_000, keepBytes: 64 * MIB });
  t.same(LIMITS.node, { proposalTimeoutMs: 10_000, proposalBatchMax: 256, readyProposalBytesMax: 4 * 1024 * 1024, lookupStatsNamespacesMax: 10_000 });
  t.same(LIMITS.repair, { roundsMax: 60, retryMs: 1_000, pendingMax: 1_024, fetchDeadlineMs: 5_000 });
  t.same(LIMITS.pool, { offloadBytesMin: MIB, idleTimeoutMs: 30_000, queueJobsMax: 256, threadsMax: 64 });
  t.match(LIMITS.eviction, { highWatermarkRatio: 0.9, lowWatermarkRatio: 0.85, leaseMsMax: 60_000, accessReportIntervalMs: 500 });
});

t.test('overrides are applied, checked and frozen', async (t) => {
  const limits = resolveLimits({ raft: { electionTick: 20 }, page: { keysPerRequestMax: 1024 } });
  t.equal(limits.raft.electionTick, 20, 'the override is applied');
  t.equal(limits.raft.heartbeatTick, LIMITS.raft.heartbeatTick, 'other fields keep their defaults');
  t.equal(limits.page.keysPerRequestMax, 1024);
  t.ok(Object.isFrozen(limits) && Object.isFrozen(limits.raft), 'the result is frozen');
  t.same(resolveLimits(), LIMITS, 'no overrides gives the defaults');
  t.equal(LIMITS.raft.electionTick, 10, 'the defaults are untouched');
});

t.test('every relation rejects a configuration that breaks it', async (t) => {
  const broken: [string, LimitOverrides, RegExp][] = [
    ['heartbeatTick not below electionTick', { raft: { heartbeatTick: 10, electionTick: 10 } }, /heartbeatTick must be below/],
    ['maxSizePerMsgBytes above maxInflightBytes', { raft: { maxSizePerMsgBytes: 128 * MIB } }, /maxSizePerMsgBytes must not exceed/],
    ['entryBytesMax below page.bytesMax', { raft: { entryBytesMax: 16 * MIB } }, /entryBytesMax must hold page.bytesMax/],
    ['maxUncommittedEntriesBytes below one entry', { raft: { maxUncommittedEntriesBytes: 16 * MIB } }, /maxUncommittedEntriesBytes must hold/],
    ['maxCommittedSizePerReadyBytes below maxSizePerMsgBytes', { raft: { maxCommittedSizePerReadyBytes: 1024 } }, /maxCommittedSizePerReadyBytes must not be below/],
    ['keyBytesMin above keyBytesMax', { page: { keyBytesMin: 65 } }, /keyBytesMin must not exceed/],
    ['chunkBytes above page.bytesMax', { page: { chunkBytes: 64 * MIB } }, /chunkBytes must not exceed/],
    ['client message below a chunk', { rpc: { clientMessageBytesMax: 1 * MIB } }, /hold one page chunk/],
    ['client message below a full key list', { page: { keysPerRequestMax: 100_000 } }, /keysPerRequestMax longest keys/],
    ['peer message below the largest entry', { rpc: { peerMessageBytesMax: 32 * MIB } }, /peerMessageBytesMax must hold/],
    ['WAL segment below the largest entry', { wal: { segmentBytes: 32 * MIB } }, /wal.segmentBytes must hold/],
    ['compaction trigger below one segment', { compaction: { triggerWalBytes: 1 * MIB } }, /triggerWalBytes must be at least/],
    ['low watermark not below the high one', { eviction: { lowWatermarkRatio: 0.9 } }, /low watermark must be below/],
    ['high watermark above 1', { eviction: { highWatermarkRatio: 1.5 } }, /highWatermarkRatio must be at most 1/],
    ['low watermark at 0', { eviction: { lowWatermarkRatio: 0 } }, /lowWatermarkRatio must be above 0/],
    ['small arena above the arena', { memoryTier: { smallArenaBytes: 512 * MIB } }, /smallArenaBytes must not exceed/],
    ['a zero limit', { namespace: { lengthMax: 0 } }, /namespace.lengthMax must be a positive integer/],
    ['a fractional limit', { raft: { tickMs: 12.5 } }, /raft.tickMs must be a positive integer/],
    ['a negative limit', { compaction: { triggerEntries: -1 } }, /compaction.triggerEntries must be a positive integer/],
  ];
  for (const [why, overrides, message] of broken) {
    t.throws(() => resolveLimits(overrides), { code: 'ERR_ASSERTION', message }, why);
  }
});
