// Original file: proto/kvcache/v1/admin.proto


export interface AddMemberResponse {
}

export interface AddMemberResponse__Output {
}
