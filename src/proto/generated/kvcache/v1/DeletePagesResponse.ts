// Original file: proto/kvcache/v1/cache.proto


export interface DeletePagesResponse {
}

export interface DeletePagesResponse__Output {
}
