// A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32). The
// simulator takes every random decision from one of these, so a run is a pure function of its
// seed and options: replaying a seed replays the run exactly. Math.random is never used.

const UINT32_RANGE = 0x1_0000_0000;

/** splitmix32: spreads a small seed over 32 bits; used only to derive the generator's state. */
function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Prng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(seed: number) {
    const state = { value: seed | 0 };
    this.#s0 = splitmix32(state);
    this.#s1 = splitmix32(state);
    this.#s2 = splitmix32(state);
    this.#s3 = splitmix32(state);
    // xoshiro must not start from the all-zero state; splitmix32 makes that practically impossible.
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.nextU32() / UINT32_RANGE;
  }

  /** A uniform integer in [0, n) for 0 < n <= 2^32. */
  int(n: number): number {
    if (!(n > 0)) throw new RangeError(`Prng.int(${n}): n must be positive`);
    return Math.floor(this.float() * n);
  }

  /** A uniform integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** A new array with the items in random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }

  /**
   * An independent generator derived from this one: components that draw a variable number of
   * values (the Raft core's election timers) get their own stream, so that a change in how many
   * values one of them draws does not shift every later decision of the others.
   */
  fork(): Prng {
    return new Prng(this.nextU32());
  }
}
