// Public surface of the Raft core: a pure, synchronous state machine and its log storage contract.
export * from './types.js';
export { RawNode } from './raw-node.js';
export { MemoryStorage } from './memory-storage.js';
export { encodeConfChange, decodeConfChange, applyConfChangeToState } from './conf-change.js';
export { CAMPAIGN_TRANSFER_CONTEXT } from './raft.js';
export { describeEntry, describeHardState, describeMessage, describeSnapshot, describeSoftState } from './describe.js';
