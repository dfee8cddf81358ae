// File I/O shared by the WAL and the store: appends that bypass the page cache (docs/ARCHITECTURE.md, "Direct appends").
export { DirectAppender, DIRECT_BLOCK_BYTES, DIRECT_SCRATCH_BYTES, directIoProblem, setDirectIo } from './direct-append.js';
