// One definition of "the page set" that a member and a client can both compute: sha256 over the
// pages sorted by (namespace, key) in byte order, each as one line of its namespace, key,
// parent key, bytes and tokens — exactly what ListPages returns and what the Watch feed's
// `stored` events carry. A member reports it in Status (`pages_digest`, with include_digest); a
// client that rebuilt the page set from ListPages + Watch compares its own against it.
import { createHash } from 'node:crypto';

export interface DigestPage {
  ns: string;
  key: Uint8Array;
  parentKey?: Uint8Array | undefined;
  bytes: number;
  tokens: number;
}

function hexOf(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The sort key: namespace bytes, 0x00, key bytes (the store's own key order). */
function sortKey(page: DigestPage): Buffer {
  return Buffer.concat([Buffer.from(page.ns, 'utf8'), Buffer.of(0), Buffer.from(page.key.buffer, page.key.byteOffset, page.key.byteLength)]);
}

/** sha256 (hex) of the page set; the order the pages are given in does not matter. */
export function pageSetDigest(pages: Iterable<DigestPage>): string {
  const sorted = [...pages].map((page) => ({ page, at: sortKey(page) })).sort((a, b) => Buffer.compare(a.at, b.at));
  const hash = createHash('sha256');
  for (const { page } of sorted) hash.update(`${page.ns}\u0000${hexOf(page.key)}\u0000${hexOf(page.parentKey)}\u0000${page.bytes}\u0000${page.tokens}\n`);
  return hash.digest('hex');
}
