// How members reach each other. The node driver only sees this interface; this issue ships an
// in-process implementation (with faults) and the services issue adds gRPC.
import type { Message, NodeId } from '../raft/index.js';
import type { SnapshotChunk } from '../store/index.js';

export interface TransportHandler {
  /** A Raft message from a peer (already decoded and validated). */
  onMessage(message: Message): void;
  /**
   * A state-machine snapshot from the leader: `message` is the MsgSnap to step once `chunks` are
   * installed. Resolves when installed (or rejects, leaving the old state intact).
   */
  onSnapshot(message: Message, chunks: AsyncIterable<SnapshotChunk>): Promise<void>;
  /**
   * An access report from member `from` (src/codec encodeAccessReport), not yet decoded: the
   * receiver decodes it and drops what does not decode. Never throws.
   */
  onAccessReport(from: NodeId, report: Uint8Array): void;
}

export interface Transport {
  /** Registers the member `id`; messages addressed to it go to `handler`. */
  register(id: NodeId, handler: TransportHandler): void;
  unregister(id: NodeId): void;
  /**
   * Fire and forget: messages may be lost, delayed or reordered; Raft copes. The transport may
   * keep references to the messages' entries' data until they are sent (the gRPC transport sends
   * large payloads by reference, without encoding them first): callers never modify them, as the
   * Raft log never modifies an entry.
   */
  send(messages: Message[]): void;
  /** Fire and forget, like `send`: an access report from `from` to the leader `to`. */
  sendAccessReport(from: NodeId, to: NodeId, report: Uint8Array): void;
  /** Streams a snapshot to `message.to`; resolves true once the receiver installed it. */
  sendSnapshot(message: Message, chunks: AsyncIterable<SnapshotChunk>): Promise<boolean>;
}
