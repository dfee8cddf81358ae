// Original file: proto/kvcache/v1/admin.proto


export interface SetNamespaceConfigResponse {
}

export interface SetNamespaceConfigResponse__Output {
}
