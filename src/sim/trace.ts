// One-line (or indented multi-line) descriptions of simulator events for replay traces, in the
// format of src/raft/describe.ts (etcd's), so a trace reads like the interaction tests' output.
import { describeEntry, describeHardState, describeMessage, describeSnapshot, describeSoftState } from '../raft/index.js';
import type { Message, Ready } from '../raft/index.js';

export function describeMessageLine(m: Message): string {
  return describeMessage(m);
}

/** A Ready as indented lines after the event's own line (starting with a newline when non-empty). */
export function describeReadyLines(rd: Ready): string {
  const lines: string[] = [];
  if (rd.softState !== undefined) lines.push(describeSoftState(rd.softState));
  if (rd.hardState !== undefined) lines.push(`HardState ${describeHardState(rd.hardState)}`);
  if (rd.snapshot !== undefined) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  for (const e of rd.entries) lines.push(`append ${describeEntry(e)}`);
  for (const e of rd.committedEntries) lines.push(`apply ${describeEntry(e)}`);
  for (const m of rd.messages) lines.push(`send ${describeMessage(m)}`);
  if (rd.readStates.length > 0) lines.push(`${rd.readStates.length} read states`);
  return lines.map((l) => `\n    ${l}`).join('');
}
