// Original file: proto/kvcache/v1/admin.proto


export interface GetConfigRequest {
}

export interface GetConfigRequest__Output {
}
