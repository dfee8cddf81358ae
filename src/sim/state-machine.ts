// The simulated application: it applies committed entries in order and keeps a running hash of
// them. Its image (what goes into a Raft snapshot) is just the applied index and the hash, which
// is enough to check that every node, whether it applied entry by entry or restored a snapshot,
// reached the same state at the same index. It lives in memory: a crash loses it, and a restart
// restores it from the node's latest snapshot and re-applies the committed entries after it.
import type { Entry } from '../raft/index.js';
import { FNV_OFFSET_BASIS, fnv1aBytes, fnv1aU32 } from './hash.js';

const IMAGE_BYTES = 12;

export class SimStateMachine {
  applied = 0;
  hash: number = FNV_OFFSET_BASIS;
  /** Entries applied since the last restore (for statistics). */
  appliedCount = 0;

  apply(entry: Entry): number {
    let h = fnv1aU32(entry.index, this.hash);
    h = fnv1aU32(entry.term, h);
    h = fnv1aU32(entry.type, h);
    this.hash = fnv1aBytes(entry.data, h);
    this.applied = entry.index;
    this.appliedCount++;
    return this.hash;
  }

  /** The snapshot image: applied index (u64 as two u32) and hash, little-endian. */
  image(): Uint8Array {
    const out = new Uint8Array(IMAGE_BYTES);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.applied % 0x1_0000_0000, true);
    view.setUint32(4, Math.floor(this.applied / 0x1_0000_0000), true);
    view.setUint32(8, this.hash, true);
    return out;
  }

  /** Replaces the state with an image; an empty image is the initial state (snapshot index 0). */
  restore(image: Uint8Array): void {
    this.appliedCount = 0;
    if (image.byteLength === 0) {
      this.applied = 0;
      this.hash = FNV_OFFSET_BASIS;
      return;
    }
    if (image.byteLength !== IMAGE_BYTES) throw new Error(`bad state-machine image of ${image.byteLength} bytes`);
    const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
    this.applied = view.getUint32(0, true) + view.getUint32(4, true) * 0x1_0000_0000;
    this.hash = view.getUint32(8, true);
  }
}
