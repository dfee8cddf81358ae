// Original file: proto/kvcache/v1/admin.proto


export interface DropNamespaceRequest {
  'namespace'?: (string);
}

export interface DropNamespaceRequest__Output {
  'namespace': (string);
}
