// Original file: proto/kvcache/v1/admin.proto


export interface DropNamespaceResponse {
}

export interface DropNamespaceResponse__Output {
}
