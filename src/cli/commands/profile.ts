// `kvc profile`: a CPU profile of one running member (AdminService.Profile through node:inspector;
// admin-token protected), written as a .cpuprofile file that Chrome DevTools and `node
// --cpu-prof` tooling open. The member is found by id among the members the endpoints report.
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { CliError } from '../cli-error.js';
import { withClient } from '../connect.js';
import { addConnectionOptions, integerIn, parseMemberId, type ConnectionOptions } from '../options.js';
import { printOutcome } from '../output.js';

/** AdminService.Profile's bounds (src/rpc/profile.ts). */
const SECONDS_MIN = 1;
const SECONDS_MAX = 60;

interface ProfileOptions extends ConnectionOptions {
  member: number;
  seconds: number;
  out: string;
}

export function registerProfile(program: Command): void {
  addConnectionOptions(program.command('profile').description('take a CPU profile of one member and write it as a .cpuprofile file'))
    .addOption(new Option('--member <id>', 'raft id of the member to profile').argParser(parseMemberId).makeOptionMandatory())
    .addOption(new Option('--seconds <s>', `how long to sample (${SECONDS_MIN}-${SECONDS_MAX})`).default(10).argParser(integerIn(SECONDS_MIN, SECONDS_MAX)))
    .addOption(new Option('--out <file>', 'where to write the profile (e.g. member2.cpuprofile)').makeOptionMandatory())
    .action(async (o: ProfileOptions) => {
      const bytes = await withClient(o, async (client) => {
        const cluster = await client.clusterStatus();
        const member = cluster.members.find((m) => m.id === o.member);
        if (member === undefined) {
          const known = cluster.members.map((m) => m.id).join(', ') || 'none answered';
          throw new CliError(`no member ${o.member} among the members the endpoints report (${known})`);
        }
        if (process.stderr.isTTY) process.stderr.write(`profiling member ${o.member} at ${member.address} for ${o.seconds} s...\n`);
        return client.profile(member.address, o.seconds);
      });
      await writeFile(o.out, bytes);
      printOutcome(o.json, { member: o.member, seconds: o.seconds, out: o.out, bytes: bytes.byteLength }, `wrote ${o.out} (${bytes.byteLength} bytes): a ${o.seconds} s CPU profile of member ${o.member}; open it in Chrome DevTools (Performance) or VS Code`);
    });
}
