// Original file: proto/kvcache/v1/peer.proto


export interface SnapshotAck {
  /**
   * True when the receiver installed the image (or already had newer state).
   */
  'installed'?: (boolean);
}

export interface SnapshotAck__Output {
  /**
   * True when the receiver installed the image (or already had newer state).
   */
  'installed': (boolean);
}
