// Proves that test-only fault switches cannot reach a member by accident: the gate
// (src/cli/unsafe-switches.ts) takes a switch only with both its flag and its variable, and
// `kvc start` refuses to start (exit 1, a message naming both) when either comes alone; a member
// that runs with a switch lists it in Status, and `kvc status` warns about it. The refusals run
// the real `kvc start` (they end before any config is read); the Status part uses one in-process
// member. (That both together really turn the switch on is shown by test/chaos/fault-switch.test.ts,
// where the harness passes the flag for the variable it sees.)
import t from 'tap';
import { CliError } from '../../src/cli/cli-error.js';
import { UNSAFE_SWITCHES, resolveUnsafeSwitches, unsafeSwitchArgs, unsafeSwitchNames, unsafeSwitchWarnings } from '../../src/cli/unsafe-switches.js';
import { startCluster } from '../rpc/helpers.js';
import { runKvc } from './helpers.js';

const ACK = UNSAFE_SWITCHES.ack;

t.test('the gate takes a switch only with both its flag and its variable', async (t) => {
  t.same(resolveUnsafeSwitches({}, {}), {}, 'neither: off');
  t.same(resolveUnsafeSwitches({ unsafeTestAck: true }, { [ACK.env]: '1' }), { ack: '1' }, 'both: on, with the value');
  t.throws(() => resolveUnsafeSwitches({}, { [ACK.env]: '1' }), CliError, 'the variable alone is refused');
  t.throws(() => resolveUnsafeSwitches({ unsafeTestAck: true }, {}), CliError, 'the flag alone is refused');
  t.same(resolveUnsafeSwitches({}, { [ACK.env]: '' }), {}, 'an empty variable is unset');
  t.same(unsafeSwitchNames({ ack: '1' }), ['unsafe-test-ack']);
  t.match(unsafeSwitchWarnings({ ack: '1' })[0], /TEST-ONLY fault switch on \(--unsafe-test-ack, KVC_TEST_UNSAFE_ACK=1\)/);
  t.same(unsafeSwitchArgs({ [ACK.env]: '1' }), ['--unsafe-test-ack'], 'a harness passes the flag for a set variable');
  t.same(unsafeSwitchArgs({}), []);
});

t.test('kvc start refuses the variable without the flag, and the flag without the variable', async (t) => {
  const envOnly = await runKvc(['start', '--config', 'no-such-config.yaml', '--id', '1'], { env: { [ACK.env]: '1' } });
  t.equal(envOnly.code, 1, 'exit 1');
  t.match(envOnly.stderr, /KVC_TEST_UNSAFE_ACK is set but --unsafe-test-ack is not/, 'says why');
  const flagOnly = await runKvc(['start', '--config', 'no-such-config.yaml', '--id', '1', '--unsafe-test-ack'], { env: { [ACK.env]: '' } });
  t.equal(flagOnly.code, 1, 'exit 1');
  t.match(flagOnly.stderr, /--unsafe-test-ack needs KVC_TEST_UNSAFE_ACK set too/, 'says why');
});

t.test('a member with a switch on lists it in Status, and kvc status warns', async (t) => {
  const cluster = await startCluster([1], { unsafeTestSwitches: ['unsafe-test-ack'] });
  t.teardown(() => cluster.stopAll());
  await cluster.leader();
  const endpoint = cluster.addresses.get(1)!;
  const json = await runKvc(['status', '--endpoints', endpoint, '--json']);
  t.equal(json.code, 0, json.stderr);
  const view = JSON.parse(json.stdout) as { members: { unsafeTestSwitches: string[] }[] };
  t.same(view.members[0]!.unsafeTestSwitches, ['unsafe-test-ack'], 'listed in Status');
  const human = await runKvc(['status', '--endpoints', endpoint]);
  t.match(human.stdout, /member 1: WARNING: runs with TEST-ONLY fault switches, not fit for real data: unsafe-test-ack/);
});
