// Original file: proto/kvcache/v1/admin.proto


export interface RemoveMemberResponse {
}

export interface RemoveMemberResponse__Output {
}
