#!/usr/bin/env node
// The `kvc` command (package.json "bin"). The CLI is TypeScript run from source: register tsx's
// ESM loader in this process, then load the real entry point.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
