// The public surface of src/client, the library an inference worker embeds (docs/CLIENT.md).
// It depends only on the protos, src/bytes (checksums, dtypes), src/native, src/limits and
// src/errors, never on the server side (src/rpc, src/node, src/store) nor on the codec's msgpackr,
// so it can be shipped and used on its own.
export { hashBlocks, BLOCK_KEY_BYTES, BLOCK_TOKENS_MAX, type HashBlocksOptions } from './hash.js';
export {
  KvcClient,
  DEFAULT_DEADLINE_MS,
  DEFAULT_LOOKUP_CALLS_MAX,
  DEFAULT_REMOVALS_PAGE,
  LOOKUP_PROMPTS_PER_CALL_MAX,
  PUT_STREAM_BYTES_MAX,
  REMOVALS_PER_CALL_MAX,
  type ClientOptions,
  type ClientTls,
  type ClusterSettings,
  type ClusterStatus,
  type GetPagesOptions,
  type ListedPage,
  type ListPagesOptions,
  type PageListing,
  type ListRemovalsOptions,
  type LookupOptions,
  type MemberStatus,
  type NamespaceList,
  type NamespaceStatus,
  type PutOutcome,
  type Removal,
  type RemovalList,
  type PutVia,
  type Transfer,
} from './client.js';
export { DEFAULT_WATCH_RESUMES_MAX, type WatchEvent, type WatchEventType, type WatchOptions } from './watch.js';
export { pageSetDigest, type DigestPage } from '../bytes/index.js';
export { PROBE_AGAIN_MS } from './shared-memory.js';
export { KvcClientError, isKvcClientError, CLIENT_ERROR_CODES, KVC_CODE_TRAILER, LEADER_TRAILER, OLDEST_INDEX_TRAILER } from './client-error.js';
export type { Page, PageInput, PageInputMeta, PageMetaOut } from './pages.js';
export { CLIENT_CHANNEL_OPTIONS } from './endpoint-pool.js';
export { DEFAULT_RETRIES, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS } from './retry.js';
export { PROTO_DIR, PROTO_LOADER_OPTIONS } from './protos.js';
export type { Dtype } from '../bytes/index.js';
