// Proves the Raft core's behaviour scenario by scenario, the way etcd-raft's interaction tests do:
// each test/raft/testdata/*.txt script drives real RawNodes over MemoryStorage through an
// in-memory network (test/raft/interaction/env.ts) and the described output of every command
// (core log lines, Readies, messages, states) must equal the expected output written in the
// script. The expected outputs were reviewed by hand against the Raft paper and etcd-raft.
//
// KVC_REWRITE=1 rewrites the expected outputs from the current behaviour (etcd's `-rewrite`);
// only do that when you understand every difference it makes (check with `git diff`).
// Independently of the expected text, the env checks on every apply that committed entries are
// applied in order, are durable and are within the durable commit index.

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runBlock } from './interaction/commands.js';
import { DataDrivenFile } from './interaction/datadriven.js';
import type { TestBlock } from './interaction/datadriven.js';
import { InteractionEnv } from './interaction/env.js';

const TESTDATA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const rewrite = process.env.KVC_REWRITE === '1';
/** Run one script only: KVC_RAFT_SCRIPT=election.txt. */
const only = process.env.KVC_RAFT_SCRIPT;

const files = readdirSync(TESTDATA_DIR)
  .filter((name) => name.endsWith('.txt') && (only === undefined || name === only))
  .sort();

for (const name of files) {
  t.test(name, (tt) => {
    const path = join(TESTDATA_DIR, name);
    const file = DataDrivenFile.parse(readFileSync(path, 'utf8'), name);
    const env = new InteractionEnv();
    const outputs = new Map<TestBlock, string>();
    for (const block of file.blocks()) {
      const actual = runBlock(env, block, name);
      outputs.set(block, actual);
      if (!rewrite) tt.equal(actual, block.expected, `${name}:${block.line}: ${block.commandLine}`);
    }
    tt.same(env.violations, [], `${name}: no safety violation seen while applying`);
    if (rewrite) writeFileSync(path, file.render(outputs));
    tt.end();
  });
}
