// Original file: proto/kvcache/v1/admin.proto


export interface SnapshotRequest {
}

export interface SnapshotRequest__Output {
}
