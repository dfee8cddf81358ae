// Original file: proto/kvcache/v1/admin.proto


export interface DirectIoStatus {
  /**
   * False when the member's reads of blob payloads (and its appends, with appends "direct") go
   * through the page cache: KVC_DIRECT_IO=0, its filesystem refused O_DIRECT at open, or a direct
   * write or read failed in a way that would fail again.
   */
  'enabled'?: (boolean);
  /**
   * Why not ('' while enabled).
   */
  'reason'?: (string);
  /**
   * How the member appends to its WAL segments and blob files (KVC_APPEND_IO): "dropped" (the
   * default: through the page cache, whose pages are dropped after each fdatasync), "direct"
   * (past the page cache) or "cached" (through it, left there). Empty from a member older than it.
   */
  'appends'?: (string);
  /**
   * Why appends are not written as KVC_APPEND_IO asked ('' when they are): a value that is no
   * mode, direct I/O refused, or dropping pages failed (no native addon).
   */
  'appendsReason'?: (string);
}

export interface DirectIoStatus__Output {
  /**
   * False when the member's reads of blob payloads (and its appends, with appends "direct") go
   * through the page cache: KVC_DIRECT_IO=0, its filesystem refused O_DIRECT at open, or a direct
   * write or read failed in a way that would fail again.
   */
  'enabled': (boolean);
  /**
   * Why not ('' while enabled).
   */
  'reason': (string);
  /**
   * How the member appends to its WAL segments and blob files (KVC_APPEND_IO): "dropped" (the
   * default: through the page cache, whose pages are dropped after each fdatasync), "direct"
   * (past the page cache) or "cached" (through it, left there). Empty from a member older than it.
   */
  'appends': (string);
  /**
   * Why appends are not written as KVC_APPEND_IO asked ('' when they are): a value that is no
   * mode, direct I/O refused, or dropping pages failed (no native addon).
   */
  'appendsReason': (string);
}
