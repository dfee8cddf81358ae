// Original file: proto/kvcache/v1/cache.proto

/**
 * Element type of a page payload.
 */
export const Dtype = {
  DTYPE_UNSPECIFIED: 'DTYPE_UNSPECIFIED',
  /**
   * IEEE binary16, 2 bytes per element
   */
  FP16: 'FP16',
  /**
   * IEEE binary32, 4 bytes
   */
  FP32: 'FP32',
  /**
   * bfloat16, 2 bytes
   */
  BF16: 'BF16',
  /**
   * opaque bytes (no conversion possible)
   */
  U8: 'U8',
} as const;

/**
 * Element type of a page payload.
 */
export type Dtype =
  | 'DTYPE_UNSPECIFIED'
  | 0
  /**
   * IEEE binary16, 2 bytes per element
   */
  | 'FP16'
  | 1
  /**
   * IEEE binary32, 4 bytes
   */
  | 'FP32'
  | 2
  /**
   * bfloat16, 2 bytes
   */
  | 'BF16'
  | 3
  /**
   * opaque bytes (no conversion possible)
   */
  | 'U8'
  | 4

/**
 * Element type of a page payload.
 */
export type Dtype__Output = typeof Dtype[keyof typeof Dtype]
