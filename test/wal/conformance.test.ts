// Proves that the WAL passes the Raft log storage conformance suite (test/raft/
// storage-conformance.ts) on real files, with every case's state checked again after a close
// and reopen from disk. It runs three ways: the defaults with fsync on (the production path);
// with tiny segments and no entry cache, so that every read is a positioned read from disk and
// every compaction rolls over and deletes segments; and with a cache too small for the larger
// entries, so that cached and on-disk entries mix in one read.

import t from 'tap';
import type { Test } from 'tap';
import { Wal } from '../../src/wal/index.js';
import type { WalOptions } from '../../src/wal/index.js';
import { runLogStorageConformance } from '../raft/storage-conformance.js';
import { tempDir } from './helpers.js';

function factoryWith(options: Omit<WalOptions, 'dir'>) {
  const dirs = new WeakMap<Wal, string>();
  const open = async (t: Test, dir: string): Promise<Wal> => {
    const wal = await Wal.open({ ...options, dir, logger: () => {} });
    dirs.set(wal, dir);
    t.teardown(() => wal.close());
    return wal;
  };
  return {
    factory: (t: Test) => open(t, tempDir(t)),
    reopen: async (wal: Wal, t: Test) => {
      await wal.close();
      return await open(t, dirs.get(wal)!);
    },
  };
}

const defaults = factoryWith({});
await runLogStorageConformance(t, 'Wal (defaults, fsync on)', defaults.factory, { reopen: defaults.reopen });

const tiny = factoryWith({ fsync: false, segmentBytes: 2048, entryCacheBytes: 0 });
await runLogStorageConformance(t, 'Wal (2 KiB segments, no entry cache)', tiny.factory, { reopen: tiny.reopen });

const smallCache = factoryWith({ fsync: false, segmentBytes: 64 * 1024, entryCacheBytes: 1000 });
await runLogStorageConformance(t, 'Wal (1000-byte entry cache)', smallCache.factory, { reopen: smallCache.reopen });
