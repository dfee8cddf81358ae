// Original file: proto/kvcache/v1/admin.proto


export interface ListNamespacesRequest {
}

export interface ListNamespacesRequest__Output {
}
