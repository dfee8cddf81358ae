// The writes of one apply() call before they reach LevelDB. Commands later in the batch must see
// the effects of earlier ones (a put after a delete of the same key, a put after a drop of its
// namespace, the bytes a previous put took from the budget), so every read made while applying
// looks here first and falls back to the database only for keys this batch has not touched.
// The last value written to a key wins; `ops()` turns the final state into one LevelDB batch.

import type { StoredMeta } from './records.js';
import { keyId } from './keys.js';

interface PendingWrite {
  key: Uint8Array;
  /** `null` deletes the key. */
  value: Uint8Array | null;
}

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

export class PendingWrites {
  #writes = new Map<string, PendingWrite>();
  /** Decoded metadata of the page records written here, so checks need not decode them again. */
  #metas = new Map<string, StoredMeta | null>();

  put(key: Uint8Array, value: Uint8Array): void {
    this.#writes.set(keyId(key), { key, value });
  }

  del(key: Uint8Array): void {
    const id = keyId(key);
    this.#writes.set(id, { key, value: null });
    if (this.#metas.has(id)) this.#metas.set(id, null);
  }

  putMeta(key: Uint8Array, value: Uint8Array, meta: StoredMeta): void {
    this.put(key, value);
    this.#metas.set(keyId(key), meta);
  }

  /** The pending value of `key`: bytes, `null` when deleted here, `undefined` when untouched. */
  get(key: Uint8Array): Uint8Array | null | undefined {
    return this.#writes.get(keyId(key))?.value;
  }

  /** Like `get` for a metadata key, decoded: a meta, `null` when deleted, `undefined` when untouched. */
  getMeta(key: Uint8Array): StoredMeta | null | undefined {
    const id = keyId(key);
    if (this.#metas.has(id)) return this.#metas.get(id);
    return this.#writes.has(id) ? null : undefined;
  }

  /** Pending keys in `[gte, lt)` that hold a value (not deletions). */
  liveKeysInRange(gte: Uint8Array, lt: Uint8Array): Uint8Array[] {
    const low = keyId(gte);
    const high = keyId(lt);
    const keys: Uint8Array[] = [];
    for (const [id, write] of this.#writes) {
      if (write.value !== null && id >= low && id < high) keys.push(write.key);
    }
    return keys;
  }

  get size(): number {
    return this.#writes.size;
  }

  /** One LevelDB batch holding the final state of every touched key. */
  ops(): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const { key, value } of this.#writes.values()) {
      ops.push(value === null ? { type: 'del', key } : { type: 'put', key, value });
    }
    return ops;
  }
}
