// Types of what scripts/build-dist.mjs (plain JavaScript: it runs before anything is set up) exports to the tests.
/** dist/bundle: the CLI bundle bin/kvc.js prefers. */
export declare const BUNDLE_DIR: string;
/** Bundles `entry` (default dist/cli/main.js) and its relative imports into `outdir` (default BUNDLE_DIR); false, with one line on stderr, when it cannot. */
export declare function bundleCli(entry?: string, outdir?: string): boolean;
