// Which address each member id has. Sources, most trusted first: the member list of the
// configuration and the ConfChange context of applied membership changes (`set`), then the
// `from_address` a peer announces on its Raft stream (`learn`, only for an id with no address
// yet, so a stray or hostile sender cannot redirect traffic meant for a known member).
//
// The book is saved in the data directory after every change. A member restarted after its WAL
// was compacted no longer replays the ConfChanges of members added earlier, and a member that
// caught up from a snapshot never saw them: without the saved book it could not reach them.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { NodeId } from '../raft/index.js';

export const ADDRESS_BOOK_FILE = 'members.json';

export class AddressBook {
  readonly #file: string | undefined;
  readonly #log: (line: string) => void;
  readonly #addresses = new Map<NodeId, string>();
  #listeners: ((id: NodeId, address: string | undefined) => void)[] = [];
  /** Saves run one after another; the last one writes the latest state. */
  #saving: Promise<void> = Promise.resolve();

  constructor(file?: string, log: (line: string) => void = () => undefined) {
    this.#file = file;
    this.#log = log;
  }

  /** A book saved in `file`, with what an earlier run saved there (nothing if absent or unreadable). */
  static async load(file: string, log: (line: string) => void = () => undefined): Promise<AddressBook> {
    const book = new AddressBook(file, log);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return book;
    }
    try {
      const saved = JSON.parse(text) as Record<string, unknown>;
      for (const [id, address] of Object.entries(saved)) {
        if (/^\d+$/.test(id) && typeof address === 'string' && address !== '') book.#addresses.set(Number(id), address);
      }
    } catch (error) {
      // The book is a cache of what the log and config say; a damaged one is rebuilt from them.
      log(`address book ${file} is unreadable, starting without it: ${String(error)}`);
    }
    return book;
  }

  get(id: NodeId): string | undefined {
    return this.#addresses.get(id);
  }

  entries(): [NodeId, string][] {
    return [...this.#addresses].sort(([a], [b]) => a - b);
  }

  /** Called with (id, address) on each change; address undefined = removed. */
  onChange(listener: (id: NodeId, address: string | undefined) => void): void {
    this.#listeners.push(listener);
  }

  /** An authoritative address (configuration, applied ConfChange). */
  set(id: NodeId, address: string): void {
    if (address === '' || this.#addresses.get(id) === address) return;
    this.#addresses.set(id, address);
    this.#changed(id, address);
  }

  /** An address a peer announced; taken only when the id has none. */
  learn(id: NodeId, address: string): void {
    if (address === '' || this.#addresses.has(id)) return;
    this.#log(`learned the address of member ${id} from its stream: ${address}`);
    this.set(id, address);
  }

  delete(id: NodeId): void {
    if (!this.#addresses.delete(id)) return;
    this.#changed(id, undefined);
  }

  /** Resolves once every change so far is saved. */
  flushed(): Promise<void> {
    return this.#saving;
  }

  #changed(id: NodeId, address: string | undefined): void {
    for (const listener of this.#listeners) listener(id, address);
    const file = this.#file;
    if (file === undefined) return;
    this.#saving = this.#saving.then(() => this.#save(file));
  }

  async #save(file: string): Promise<void> {
    const text = JSON.stringify(Object.fromEntries(this.entries()), null, 2);
    const temporary = `${file}.tmp`;
    try {
      // Write then rename, so a crash leaves the old book or the new one, never half of one.
      await writeFile(temporary, text);
      await rename(temporary, file);
    } catch (error) {
      this.#log(`could not save the address book ${file}: ${String(error)}`);
    }
  }
}
