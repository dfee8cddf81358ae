// Original file: proto/kvcache/v1/admin.proto


export interface StatusRequest {
  /**
   * Also compute `digest` (StatusResponse). Costly: the member reads its whole store for it.
   */
  'includeDigest'?: (boolean);
}

export interface StatusRequest__Output {
  /**
   * Also compute `digest` (StatusResponse). Costly: the member reads its whole store for it.
   */
  'includeDigest': (boolean);
}
