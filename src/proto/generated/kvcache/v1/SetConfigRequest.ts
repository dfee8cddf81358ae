// Original file: proto/kvcache/v1/admin.proto


/**
 * Changes one replicated setting (leader only). Keys: budgetBytes (a size: 4294967296 or 4GiB,
 * at least one largest page), highWatermark and lowWatermark (fractions in (0, 1], low < high),
 * evictionGraceMs (0 to 1 day), defaultTtlMs (0 = none, at most 365 days). A bad key or value is
 * KVC_INVALID_CONFIG and changes nothing.
 */
export interface SetConfigRequest {
  'key'?: (string);
  'value'?: (string);
}

/**
 * Changes one replicated setting (leader only). Keys: budgetBytes (a size: 4294967296 or 4GiB,
 * at least one largest page), highWatermark and lowWatermark (fractions in (0, 1], low < high),
 * evictionGraceMs (0 to 1 day), defaultTtlMs (0 = none, at most 365 days). A bad key or value is
 * KVC_INVALID_CONFIG and changes nothing.
 */
export interface SetConfigRequest__Output {
  'key': (string);
  'value': (string);
}
