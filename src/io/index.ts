// File I/O shared by the WAL and the store: appends (through the page cache and dropped after each
// sync, or past it) and reads that bypass the page cache (docs/ARCHITECTURE.md, "Appends and
// direct reads").
export { Appender, APPEND_MODES, appendIoStatus, appendModeFromEnv, directIoStatus, setAppendMode, type AppendMode } from './append.js';
export { DirectReader } from './direct-read.js';
export { DIRECT_BLOCK_BYTES, DIRECT_SCRATCH_BYTES, directIoProblem, setDirectIo } from './scratch.js';
