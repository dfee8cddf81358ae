// Store images between members: the leader streams its store when the core sends MsgSnap, and a
// follower installs what it receives. The node owns the store's lifecycle (replaceStore closes it,
// lets the install run alone, and reopens it); this class owns the protocol around it: the merged
// snapshot message, the send and its report back to the core, and the counters.

import type { ConfState, Message, NodeId } from '../raft/index.js';
import { PageStore, type ChunkChecksums, type SnapshotChunk } from '../store/index.js';
import type { Wal } from '../wal/index.js';
import { notify, type NodeObserver } from './observer.js';
import type { Transport } from './transport.js';

export interface SnapshotHost {
  readonly id: NodeId;
  store(): PageStore;
  wal(): Wal;
  confState(): ConfState;
  transport: Transport;
  checksums: ChunkChecksums | undefined;
  /** Tells the core how a send ended (reportSnapshot). */
  reportSent(to: NodeId, ok: boolean): void;
  /**
   * Runs `install` with the store closed and nothing else using it, then reopens the store
   * (whatever the outcome). `dir` is the store's directory, `minAppliedIndex` what it held.
   */
  replaceStore(install: (dir: string, minAppliedIndex: number) => Promise<void>): Promise<void>;
  log(line: string): void;
  observer: NodeObserver | undefined;
}

export class SnapshotTransfer {
  readonly #host: SnapshotHost;
  /** Store images streamed to followers / installed from a leader since the member started. */
  sent = 0;
  installed = 0;

  constructor(host: SnapshotHost) {
    this.#host = host;
  }

  /** Sends the store image for the core's MsgSnap `m`, in the background. */
  send(m: Message): void {
    void this.#send(this.#merged(m));
  }

  /**
   * The core's MsgSnap names the WAL's snapshot (index, term, membership then), but what travels
   * is the store image as of now: a member added since that snapshot would not find itself in
   * the old membership and would ignore it (etcd's createMergedSnapshotMessage). Describe the
   * image instead: our applied index, its term, the membership applied with it. The image itself
   * is read a moment later and can only be newer, which the receiver's replay skips over.
   */
  #merged(m: Message): Message {
    const index = this.#host.store().appliedIndex();
    const { metadata } = m.snapshot!;
    if (index <= metadata.index) return m;
    const merged = { index, term: this.#host.wal().term(index), confState: this.#host.confState() };
    return { ...m, snapshot: { metadata: merged, data: m.snapshot!.data } };
  }

  async #send(m: Message): Promise<void> {
    const id = this.#host.id;
    const started = performance.now();
    let ok = false;
    const reader = this.#host.store().snapshotReader();
    try {
      ok = await this.#host.transport.sendSnapshot(m, reader);
    } catch (err) {
      this.#host.log(`member ${id}: snapshot to ${m.to} failed: ${String(err)}`);
    } finally {
      // A transfer that failed before its first chunk never iterated the reader: release its
      // LevelDB iterator and blob files now rather than when the store closes.
      await reader.close().catch(() => undefined);
    }
    if (ok) this.sent++;
    notify(this.#host.observer, (o) => o.snapshotSent?.((performance.now() - started) / 1000, ok));
    this.#host.log(`member ${id}: snapshot to ${m.to} ${ok ? 'installed' : 'failed; will retry'}`);
    this.#host.reportSent(m.to, ok);
  }

  /** Installs a leader's image; the caller steps its MsgSnap afterwards. */
  async receive(chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
    const checksums = this.#host.checksums;
    const started = performance.now();
    let installed = false;
    try {
      await this.#host.replaceStore(async (dir, minAppliedIndex) => {
        // Never go back: an image older than what we hold would lose applied entries.
        const result = await PageStore.installSnapshot(dir, chunks, { minAppliedIndex, logger: (line) => this.#host.log(line), ...(checksums ? { checksums } : {}) });
        installed = result.installed;
        if (result.installed) this.installed++;
      });
    } finally {
      notify(this.#host.observer, (o) => o.snapshotInstalled?.((performance.now() - started) / 1000, installed));
    }
  }
}
