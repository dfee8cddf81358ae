// Original file: proto/kvcache/v1/cache.proto


export interface PinPagesResponse {
}

export interface PinPagesResponse__Output {
}
