// Original file: proto/kvcache/v1/peer.proto


export interface RaftAck {
}

export interface RaftAck__Output {
}
