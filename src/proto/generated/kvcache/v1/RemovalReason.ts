// Original file: proto/kvcache/v1/cache.proto

export const RemovalReason = {
  REMOVAL_REASON_UNSPECIFIED: 'REMOVAL_REASON_UNSPECIFIED',
  REMOVAL_REASON_EVICTED: 'REMOVAL_REASON_EVICTED',
  REMOVAL_REASON_DELETED: 'REMOVAL_REASON_DELETED',
  REMOVAL_REASON_EXPIRED: 'REMOVAL_REASON_EXPIRED',
} as const;

export type RemovalReason =
  | 'REMOVAL_REASON_UNSPECIFIED'
  | 0
  | 'REMOVAL_REASON_EVICTED'
  | 1
  | 'REMOVAL_REASON_DELETED'
  | 2
  | 'REMOVAL_REASON_EXPIRED'
  | 3

export type RemovalReason__Output = typeof RemovalReason[keyof typeof RemovalReason]
