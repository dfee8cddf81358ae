// Types of scripts/newest-mtime.mjs (plain JavaScript: bin/kvc.js and the build run it before anything is set up).
/** The newest mtime (ms) of the files under `dir`. */
export declare function newestMtimeMs(dir: string): number;
