// The harness's window on one member, through the client library on the member's real port:
// AdminService.Status (with the store digest when asked, for the convergence check), and the
// membership and transfer calls the nemeses make. Each call is one attempt (no retries of the
// library's own) with a deadline that fits its purpose: the harness polls, and a member that is
// down, paused or partitioned simply does not answer this time.
import { KvcClient, type MemberStatus } from '../client/index.js';

/** A Status poll that takes longer than this is treated as no answer (a paused member never answers). */
export const STATUS_DEADLINE_MS = 1_000;
/** Reading the whole store for the digest takes longer than a plain Status. */
export const DIGEST_DEADLINE_MS = 10_000;
/** Membership changes and transfers answer once applied; an election in between can take seconds. */
export const ADMIN_CHANGE_DEADLINE_MS = 8_000;

/** What the harness reads from a member's Status. */
export interface MemberView {
  id: number;
  role: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  leaderId: number;
  voters: number[];
  learners: number[];
  /** '' unless asked for. */
  digest: string;
}

export class AdminLink {
  readonly id: number;
  readonly address: string;
  // One client per deadline: the library's deadline is per client.
  readonly #poll: KvcClient;
  readonly #digest: KvcClient;

  constructor(id: number, address: string) {
    this.id = id;
    this.address = address;
    this.#poll = this.#client(STATUS_DEADLINE_MS);
    this.#digest = this.#client(DIGEST_DEADLINE_MS);
  }

  async status(o: { digest?: boolean } = {}): Promise<MemberView> {
    const status = o.digest === true ? await this.#digest.status(this.address, { includeDigest: true }) : await this.#poll.status(this.address);
    return view(status);
  }

  addMember(id: number, address: string, learner: boolean): Promise<void> {
    return this.#change((client) => client.addMember(id, address, learner));
  }

  removeMember(id: number): Promise<void> {
    return this.#change((client) => client.removeMember(id));
  }

  transferLeader(id: number): Promise<number> {
    return this.#change((client) => client.transferLeader(id));
  }

  close(): void {
    for (const client of [this.#poll, this.#digest]) client.close();
  }

  #client(deadlineMs: number): KvcClient {
    return new KvcClient({ endpoints: [this.address], retries: 0, deadlineMs });
  }

  /**
   * A change on a client of its own, closed after: the library learns addresses from what the
   * member answers (proxy addresses, here), and a later call must not wander off to one of them.
   */
  async #change<T>(call: (client: KvcClient) => Promise<T>): Promise<T> {
    const client = this.#client(ADMIN_CHANGE_DEADLINE_MS);
    try {
      return await call(client);
    } finally {
      client.close();
    }
  }
}

function view(status: MemberStatus): MemberView {
  return {
    id: status.id,
    role: status.role,
    term: status.term,
    commitIndex: status.commitIndex,
    appliedIndex: status.appliedIndex,
    leaderId: status.leaderId,
    voters: status.members.filter((m) => !m.learner).map((m) => m.id),
    learners: status.members.filter((m) => m.learner).map((m) => m.id),
    digest: status.digest,
  };
}
