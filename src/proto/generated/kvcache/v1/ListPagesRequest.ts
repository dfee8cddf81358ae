// Original file: proto/kvcache/v1/cache.proto


export interface ListPagesRequest {
  /**
   * Empty = every namespace.
   */
  'namespace'?: (string);
  /**
   * Empty for the first call, then the previous answer's next_page_token (KVC_INVALID_PAGE_TOKEN
   * if damaged or of another namespace).
   */
  'pageToken'?: (string);
  /**
   * Most pages in this answer: 0 or more than 1000 = 1000.
   */
  'limit'?: (number);
}

export interface ListPagesRequest__Output {
  /**
   * Empty = every namespace.
   */
  'namespace': (string);
  /**
   * Empty for the first call, then the previous answer's next_page_token (KVC_INVALID_PAGE_TOKEN
   * if damaged or of another namespace).
   */
  'pageToken': (string);
  /**
   * Most pages in this answer: 0 or more than 1000 = 1000.
   */
  'limit': (number);
}
