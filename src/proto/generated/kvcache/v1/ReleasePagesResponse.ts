// Original file: proto/kvcache/v1/cache.proto


export interface ReleasePagesResponse {
}

export interface ReleasePagesResponse__Output {
}
