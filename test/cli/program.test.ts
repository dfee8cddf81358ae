// Proves that the `kvc` program loads only the module of the command a run names and still knows
// every command: COMMAND_MODULES names exactly what each module of src/cli/commands registers (so
// a command added to a module but not to the table fails here), a run of one command builds a
// program with that module's commands only, and help, a typo or no command build all of them.
// In-process, nothing is run.
import { Command } from 'commander';
import t from 'tap';
import { buildProgram, COMMAND_MODULES } from '../../src/cli/program.js';

const topLevel = (program: Command): string[] => program.commands.map((command) => command.name());
const argv = (...words: string[]): string[] => ['node', 'kvc', ...words];

t.test('each command module registers exactly the commands the table names', async (t) => {
  for (const module of COMMAND_MODULES) {
    const program = new Command('kvc');
    (await module.load())(program);
    t.same(topLevel(program), module.names, `${module.names.join(', ')}`);
  }
  const all = COMMAND_MODULES.flatMap((module) => module.names);
  t.equal(new Set(all).size, all.length, 'no command is named by two modules');
});

t.test('a run that names a command builds only its module', async (t) => {
  t.same(topLevel(await buildProgram(argv('status', '--endpoints', '127.0.0.1:1'))), ['status']);
  t.same(topLevel(await buildProgram(argv('lookup', '--ns', 'a'))), ['put', 'get', 'lookup', 'delete', 'pin', 'unpin'], 'every command of that module');
  t.same(topLevel(await buildProgram(argv('members', 'add'))), ['members', 'leader', 'snapshot'], 'a subcommand path: its top-level module');
});

t.test('help, a typo or no command build every command, in help order', async (t) => {
  const every = COMMAND_MODULES.flatMap((module) => module.names);
  for (const words of [[], ['--help'], ['help', 'status'], ['statsu'], ['-V']]) {
    t.same(topLevel(await buildProgram(argv(...words))), every, `kvc ${words.join(' ')}`);
  }
});

t.test('a typo still gets the nearest command suggested', async (t) => {
  const program = await buildProgram(argv('statsu'));
  let written = '';
  program.configureOutput({ writeErr: (text) => (written += text), writeOut: () => undefined });
  await t.rejects(program.parseAsync(argv('statsu')), { code: 'commander.unknownCommand' });
  t.match(written, /Did you mean status\?/);
});
