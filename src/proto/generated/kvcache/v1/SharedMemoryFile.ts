// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface SharedMemoryFile {
  /**
   * Absolute path on the member's host (mode 0600: readable by the member's user only).
   */
  'path'?: (string);
  'fileBytes'?: (number | string | Long);
  /**
   * Where region offset 0 is in the file (after the header page): SharedPage.offset already
   * includes it.
   */
  'dataOffset'?: (number | string | Long);
}

export interface SharedMemoryFile__Output {
  /**
   * Absolute path on the member's host (mode 0600: readable by the member's user only).
   */
  'path': (string);
  'fileBytes': (number);
  /**
   * Where region offset 0 is in the file (after the header page): SharedPage.offset already
   * includes it.
   */
  'dataOffset': (number);
}
