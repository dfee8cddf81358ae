// Original file: proto/kvcache/v1/admin.proto


/**
 * Changes one replicated setting of a namespace (leader only). Keys: quotaBytes (a size; 0 = no
 * quota; a put that would take the namespace past it evicts inside the namespace first, else is
 * KVC_QUOTA_EXHAUSTED), defaultTtlMs (0 = the cluster's default, at most 365 days).
 */
export interface SetNamespaceConfigRequest {
  'namespace'?: (string);
  'key'?: (string);
  'value'?: (string);
}

/**
 * Changes one replicated setting of a namespace (leader only). Keys: quotaBytes (a size; 0 = no
 * quota; a put that would take the namespace past it evicts inside the namespace first, else is
 * KVC_QUOTA_EXHAUSTED), defaultTtlMs (0 = the cluster's default, at most 365 days).
 */
export interface SetNamespaceConfigRequest__Output {
  'namespace': (string);
  'key': (string);
  'value': (string);
}
