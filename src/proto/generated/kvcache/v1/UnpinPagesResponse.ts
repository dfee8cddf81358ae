// Original file: proto/kvcache/v1/cache.proto


export interface UnpinPagesResponse {
}

export interface UnpinPagesResponse__Output {
}
