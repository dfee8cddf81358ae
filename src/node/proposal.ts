// The payload of a normal Raft entry: who proposed it (so the proposer can answer its caller once
// the entry is applied) and the store command. Layout: [version u8][proposer u32][seq u32][command].
import assert from 'node:assert/strict';
import { COMMAND_PREFIX_BYTES_MAX, KNOWN_CRC32C_BYTES_MIN, crc32c, decodeCommand, encodeCommandAfter, noteCrc32c, type Command } from '../codec/index.js';
import { EntryType, type Entry, type NodeId } from '../raft/index.js';

const VERSION = 1;
const HEADER_BYTES = 9;
// A put's payload assembled with room in front (codec putPayloadBuffer) holds this header too.
assert.ok(HEADER_BYTES <= COMMAND_PREFIX_BYTES_MAX);

/** The entry's data: the header, then the command encoded right behind it (a put's payload copied once). */
export function encodeProposal(proposer: NodeId, seq: number, command: Command): Uint8Array {
  const out = encodeCommandAfter(HEADER_BYTES, command);
  const view = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  view.setUint8(0, VERSION);
  view.setUint32(1, proposer);
  view.setUint32(5, seq >>> 0);
  return out;
}

/**
 * Commands notePayloadChecksums decoded on a follower, by their entry's data, each taken by the
 * first decodeProposal of that data (the apply): the command is decoded once per member.
 */
const decodedOnReceipt = new WeakMap<Uint8Array, Command>();

export function decodeProposal(data: Uint8Array): { proposer: NodeId; seq: number; command: Command } {
  // Entries come from our own replicated log, which every member checksums: damage is a bug.
  assert.ok(data.byteLength > HEADER_BYTES && data[0] === VERSION, 'malformed proposal entry');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let command = decodedOnReceipt.get(data);
  if (command !== undefined) decodedOnReceipt.delete(data);
  else command = decodeCommand(data.subarray(HEADER_BYTES));
  return { proposer: view.getUint32(1), seq: view.getUint32(5), command };
}

/**
 * The sequence number of a proposal entry when `proposer` made it, read from the header alone
 * (tracing marks its own proposals' steps without decoding their commands); undefined otherwise.
 */
export function proposalSeqOf(data: Uint8Array, proposer: NodeId): number | undefined {
  if (data.byteLength <= HEADER_BYTES || data[0] !== VERSION) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, HEADER_BYTES);
  return view.getUint32(1) === proposer ? view.getUint32(5) : undefined;
}

/**
 * A follower's one check of a replicated payload: each large page of the put proposals among
 * `entries` (a MsgApp it received) checksummed and, where it matches its page's crc32c, noted
 * (src/bytes known-crc32c.ts), so that this member's WAL record and apply do not read it again. A
 * page that does not match, and an entry that is no proposal, are left alone: the apply checks
 * them and refuses such a page, as it did before.
 */
export function notePayloadChecksums(entries: readonly Entry[]): void {
  for (const e of entries) {
    if (e.type !== EntryType.Normal || !(e.data instanceof Uint8Array) || e.data.byteLength < KNOWN_CRC32C_BYTES_MIN || e.data[0] !== VERSION) continue;
    let command: Command;
    try {
      command = decodeCommand(e.data.subarray(HEADER_BYTES));
    } catch {
      continue;
    }
    if (command.op !== 'put') continue;
    decodedOnReceipt.set(e.data, command);
    for (const { meta, data } of command.pages) {
      if (data.byteLength < KNOWN_CRC32C_BYTES_MIN) continue;
      const crc = crc32c(data);
      if (crc === meta.crc32c) noteCrc32c(data, crc);
    }
  }
}
