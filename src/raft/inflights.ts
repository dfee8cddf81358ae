// Flow control for one follower: the append messages sent but not yet acknowledged, as a ring of
// (last index, bytes). The leader stops sending when either the count or the byte budget is full.
import assert from 'node:assert/strict';

export class Inflights {
  readonly #capacity: number;
  readonly #bytesMax: number;
  #indexes: Float64Array;
  #sizes: Float64Array;
  #start = 0;
  count = 0;
  bytes = 0;

  /** `bytesMax` 0 means no byte limit. */
  constructor(capacity: number, bytesMax: number) {
    assert.ok(capacity > 0, 'maxInflightMsgs must be > 0');
    this.#capacity = capacity;
    this.#bytesMax = bytesMax;
    this.#indexes = new Float64Array(capacity);
    this.#sizes = new Float64Array(capacity);
  }

  clone(): Inflights {
    const copy = new Inflights(this.#capacity, this.#bytesMax);
    for (let i = 0; i < this.count; i++) {
      const at = (this.#start + i) % this.#capacity;
      copy.add(this.#indexes[at]!, this.#sizes[at]!);
    }
    return copy;
  }

  /** Records a message whose last entry is `index`; indexes must be added in increasing order. */
  add(index: number, bytes: number): void {
    assert.ok(!this.full(), 'cannot add into a full inflights');
    const at = (this.#start + this.count) % this.#capacity;
    this.#indexes[at] = index;
    this.#sizes[at] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    while (this.count > 0 && this.#indexes[this.#start]! <= to) {
      this.bytes -= this.#sizes[this.#start]!;
      this.#start = (this.#start + 1) % this.#capacity;
      this.count--;
    }
    if (this.count === 0) this.#start = 0;
  }

  full(): boolean {
    return this.count === this.#capacity || (this.#bytesMax > 0 && this.bytes >= this.#bytesMax);
  }

  reset(): void {
    this.count = 0;
    this.bytes = 0;
    this.#start = 0;
  }
}
