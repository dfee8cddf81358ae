// Binary encoding of a single-server membership change, carried in an EntryType.ConfChange entry.
// Layout: [type: u8][nodeId: u32 big-endian][context bytes...]. Node ids fit in 32 bits by contract.
import assert from 'node:assert/strict';
import { ConfChangeType, type ConfChange, type ConfState, type NodeId } from './types.js';

const HEADER_BYTES = 5;
const NODE_ID_MAX = 0xffff_ffff;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  assert.ok(Number.isInteger(cc.nodeId) && cc.nodeId > 0 && cc.nodeId <= NODE_ID_MAX, `bad node id ${cc.nodeId}`);
  const out = new Uint8Array(HEADER_BYTES + cc.context.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, cc.type);
  view.setUint32(1, cc.nodeId);
  out.set(cc.context, HEADER_BYTES);
  return out;
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  assert.ok(bytes.byteLength >= HEADER_BYTES, 'conf change entry too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint8(0) as ConfChangeType;
  assert.ok(type in ConfChangeType, `unknown conf change type ${type}`);
  return { type, nodeId: view.getUint32(1), context: bytes.subarray(HEADER_BYTES) };
}

/** The configuration after applying `cc` to `cs` (pure; `cs` is not modified). */
export function applyConfChangeToState(cs: ConfState, cc: ConfChange): ConfState {
  const voters = cs.voters.filter((id) => id !== cc.nodeId);
  const learners = cs.learners.filter((id) => id !== cc.nodeId);
  if (cc.type === ConfChangeType.AddVoter) voters.push(cc.nodeId);
  if (cc.type === ConfChangeType.AddLearner) learners.push(cc.nodeId);
  return { voters: sortIds(voters), learners: sortIds(learners) };
}

export function sortIds(ids: NodeId[]): NodeId[] {
  return ids.sort((a, b) => a - b);
}
