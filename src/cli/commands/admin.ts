// Operator commands over AdminService: membership, leadership transfer and a forced snapshot
// (namespaces are in namespaces.ts, capacity settings in config.ts). Each goes to the leader (the client follows redirects) and prints one line,
// or one JSON document with --json.
import type { Command } from 'commander';
import { parseAddress } from '../../config/index.js';
import { CliError } from '../cli-error.js';
import { withClient } from '../connect.js';
import { addConnectionOptions, parseMemberId, type ConnectionOptions } from '../options.js';
import { printOutcome } from '../output.js';

interface AddOptions extends ConnectionOptions {
  learner?: boolean;
}

export function registerAdmin(program: Command): void {
  const members = program.command('members').description('change the cluster membership');
  addConnectionOptions(members.command('add').description('add a member (start it with kvc start --join)'))
    .argument('<id>', 'raft id of the new member', parseMemberId)
    .argument('<address>', 'its host:port')
    .option('--learner', 'add as a non-voting learner (promote later with members add without --learner)')
    .action(async (id: number, address: string, o: AddOptions) => {
      if (!parseAddress(address)) throw new CliError(`ADDRESS: expected host:port, got "${address}"`);
      await withClient(o, (client) => client.addMember(id, address, o.learner === true));
      done(o, { added: id, address, learner: o.learner === true }, `added member ${id} at ${address}${o.learner ? ' as a learner' : ''}`);
    });
  addConnectionOptions(members.command('remove').description('remove a member'))
    .argument('<id>', 'raft id of the member', parseMemberId)
    .action(async (id: number, o: ConnectionOptions) => {
      await withClient(o, (client) => client.removeMember(id));
      done(o, { removed: id }, `removed member ${id}`);
    });

  const leader = program.command('leader').description('leadership');
  addConnectionOptions(leader.command('transfer').description('hand leadership to another member'))
    .argument('<id>', 'raft id of the new leader', parseMemberId)
    .action(async (id: number, o: ConnectionOptions) => {
      const now = await withClient(o, (client) => client.transferLeader(id));
      done(o, { leader: now }, now === id ? `member ${id} is the leader` : `transfer requested; the leader is now ${now || 'unknown'}`);
    });

  addConnectionOptions(program.command('snapshot').description('force a log compaction on the leader'))
    .action(async (o: ConnectionOptions) => {
      const walFirstIndex = await withClient(o, (client) => client.snapshot());
      done(o, { walFirstIndex }, `compacted: the WAL now starts at index ${walFirstIndex}`);
    });
}

function done(o: ConnectionOptions, json: Record<string, unknown>, human: string): void {
  printOutcome(o.json, json, human);
}
