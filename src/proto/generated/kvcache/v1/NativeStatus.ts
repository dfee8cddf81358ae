// Original file: proto/kvcache/v1/admin.proto


/**
 * The native addon (native/): whether this member's process loaded it. Without it the member
 * runs on the TypeScript paths: slower conversions and checksums, and an arena of plain memory.
 */
export interface NativeStatus {
  'loaded'?: (boolean);
  /**
   * Empty when loaded; otherwise why not (e.g. "disabled by KVC_NATIVE=0").
   */
  'reason'?: (string);
  /**
   * CPU features the addon's kernels use (all false without the addon).
   */
  'sse42'?: (boolean);
  'f16c'?: (boolean);
  'avx2'?: (boolean);
}

/**
 * The native addon (native/): whether this member's process loaded it. Without it the member
 * runs on the TypeScript paths: slower conversions and checksums, and an arena of plain memory.
 */
export interface NativeStatus__Output {
  'loaded': (boolean);
  /**
   * Empty when loaded; otherwise why not (e.g. "disabled by KVC_NATIVE=0").
   */
  'reason': (string);
  /**
   * CPU features the addon's kernels use (all false without the addon).
   */
  'sse42': (boolean);
  'f16c': (boolean);
  'avx2': (boolean);
}
