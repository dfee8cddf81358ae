// Original file: proto/kvcache/v1/admin.proto


export interface DirectIoStatus {
  /**
   * False when the member's files go through the page cache: KVC_DIRECT_IO=0, its filesystem
   * refused O_DIRECT at open, or a direct write or read failed in a way that would fail again.
   */
  'enabled'?: (boolean);
  /**
   * Why not ('' while enabled).
   */
  'reason'?: (string);
}

export interface DirectIoStatus__Output {
  /**
   * False when the member's files go through the page cache: KVC_DIRECT_IO=0, its filesystem
   * refused O_DIRECT at open, or a direct write or read failed in a way that would fail again.
   */
  'enabled': (boolean);
  /**
   * Why not ('' while enabled).
   */
  'reason': (string);
}
