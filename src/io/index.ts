// File I/O shared by the WAL and the store: appends and reads that bypass the page cache
// (docs/ARCHITECTURE.md, "Direct appends").
export { DirectAppender } from './direct-append.js';
export { DirectReader } from './direct-read.js';
export { DIRECT_BLOCK_BYTES, DIRECT_SCRATCH_BYTES, directIoProblem, directIoStatus, setDirectIo } from './scratch.js';
