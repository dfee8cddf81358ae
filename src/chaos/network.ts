// The harness's network between members: one TcpProxy per directed peer link, P(i->j), through
// which member i reaches member j (member i's generated config lists j at P(i->j)'s address),
// plus one shared inbound proxy Q(j) per member.
//
// Why Q(j) exists: a member added at run time (the membership nemesis removes a member, wipes it
// and adds it back) is announced to every member with ONE address, carried in the membership
// change's context (src/member/member.ts), and that address then overrides each member's config.
// No single address can be a different proxy for each sender, so a re-added member j is
// announced at Q(j), and from then on every member may reach j through Q(j) (or through P(i->j),
// where its config still applies). Cutting i->j therefore blocks P(i->j) and, once j has been
// re-added, all of Q(j): a partition that involves a re-added member also cuts j's inbound from
// its own side. The fault descriptions say so (`widened`).
//
// Clients and the harness's own admin calls use the members' real ports, never the proxies.
import { TcpProxy, type BlockMode } from './proxy.js';

export interface MemberAddress {
  id: number;
  /** The member's real "host:port" (what it listens on and clients dial). */
  address: string;
}

/** A directed link: `from` cannot send to `to`. */
export interface Cut {
  from: number;
  to: number;
}

export class ProxyMesh {
  readonly #real = new Map<number, string>();
  /** key `${from}->${to}` */
  readonly #pair = new Map<string, TcpProxy>();
  readonly #shared = new Map<number, TcpProxy>();
  /** Proxy address -> the member it leads to. */
  readonly #byProxyAddress = new Map<string, number>();
  readonly #readded = new Set<number>();
  #cuts: Cut[] = [];
  #blockMode: BlockMode = 'reset';

  /** Creates and starts every proxy for `members` (each with its real address). */
  static async create(members: MemberAddress[]): Promise<ProxyMesh> {
    const mesh = new ProxyMesh();
    try {
      for (const to of members) {
        mesh.#real.set(to.id, to.address);
        const shared = new TcpProxy({ target: to.address, name: `*->n${to.id}` });
        mesh.#shared.set(to.id, shared);
        mesh.#byProxyAddress.set(await shared.listen(), to.id);
        for (const from of members) {
          if (from.id === to.id) continue;
          const proxy = new TcpProxy({ target: to.address, name: `n${from.id}->n${to.id}` });
          mesh.#pair.set(pairKey(from.id, to.id), proxy);
          mesh.#byProxyAddress.set(await proxy.listen(), to.id);
        }
      }
    } catch (error) {
      await mesh.close();
      throw error;
    }
    return mesh;
  }

  /** The peer addresses member `from` is configured with: its own real address, proxies for the others. */
  configFor(from: number): MemberAddress[] {
    return [...this.#real].map(([id, address]) => ({ id, address: id === from ? address : this.#pair.get(pairKey(from, id))!.address }));
  }

  /** The address a re-added member is announced at (its shared inbound proxy); marks it re-added. */
  announceReadded(id: number): string {
    this.#readded.add(id);
    this.#applyCuts(this.#cuts, this.#blockMode);
    return this.#shared.get(id)!.address;
  }

  /** Whether `id` was re-added (reached through Q(id)). */
  isReadded(id: number): boolean {
    return this.#readded.has(id);
  }

  realAddress(id: number): string {
    const address = this.#real.get(id);
    if (address === undefined) throw new RangeError(`no member ${id}`);
    return address;
  }

  /** The member a real or proxy address leads to (leader hints name proxies), or undefined. */
  memberAt(address: string): number | undefined {
    const proxied = this.#byProxyAddress.get(address);
    if (proxied !== undefined) return proxied;
    for (const [id, real] of this.#real) if (real === address) return id;
    return undefined;
  }

  /**
   * Blocks exactly the directed links in `cuts` (replacing any earlier cuts) in `mode`. Returns
   * the members whose whole inbound had to be cut because they were re-added (see the header).
   */
  cut(cuts: Cut[], mode: BlockMode): number[] {
    this.#cuts = cuts.slice();
    this.#blockMode = mode;
    return this.#applyCuts(cuts, mode);
  }

  /** Unblocks everything. */
  heal(): void {
    this.#cuts = [];
    for (const proxy of this.#allProxies()) if (proxy.blocked !== undefined) proxy.unblock();
  }

  /** Current cuts. */
  get cuts(): readonly Cut[] {
    return this.#cuts;
  }

  /** Latency on every peer link (0: none). */
  setDelay(ms: number): void {
    for (const proxy of this.#allProxies()) proxy.setDelay(ms);
  }

  /** Connections reset and bytes forwarded over all proxies, for the report. */
  totals(): { accepted: number; reset: number; bytes: number } {
    let accepted = 0;
    let reset = 0;
    let bytes = 0;
    for (const proxy of this.#allProxies()) {
      accepted += proxy.counters.accepted;
      reset += proxy.counters.reset;
      bytes += proxy.counters.bytesForward + proxy.counters.bytesBackward;
    }
    return { accepted, reset, bytes };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#allProxies()].map((proxy) => proxy.close()));
  }

  #applyCuts(cuts: Cut[], mode: BlockMode): number[] {
    const wanted = new Set<TcpProxy>();
    const widened = new Set<number>();
    for (const { from, to } of cuts) {
      const pair = this.#pair.get(pairKey(from, to));
      if (pair !== undefined) wanted.add(pair);
      if (this.#readded.has(to)) {
        wanted.add(this.#shared.get(to)!);
        widened.add(to);
      }
    }
    for (const proxy of this.#allProxies()) {
      if (wanted.has(proxy)) {
        if (proxy.blocked !== mode) proxy.block(mode);
      } else if (proxy.blocked !== undefined) {
        proxy.unblock();
      }
    }
    return [...widened].sort((a, b) => a - b);
  }

  *#allProxies(): Generator<TcpProxy> {
    yield* this.#pair.values();
    yield* this.#shared.values();
  }
}

function pairKey(from: number, to: number): string {
  return `${from}->${to}`;
}
