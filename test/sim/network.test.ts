// Proves the simulated network's fault model: messages arrive in delivery-tick order, partitions
// and one-way cuts drop exactly the messages on cut links (also those already in flight), heal
// and reconnect restore them, loss and duplication happen at their configured rates, and the
// whole schedule is a function of the seed. Real SimNetwork objects with real core messages.

import t from 'tap';
import { MessageType, type Message } from '../../src/raft/index.js';
import { Prng, SimNetwork, type Envelope } from '../../src/sim/index.js';

function msg(from: number, to: number, index = 0): Message {
  return { type: MessageType.App, from, to, term: 1, logTerm: 0, index, entries: [], commit: 0, reject: false, rejectHint: 0 };
}

function drain(net: SimNetwork, now: number): Envelope[] {
  const out: Envelope[] = [];
  for (let e = net.takeDue(now); e !== undefined; e = net.takeDue(now)) out.push(e);
  return out;
}

t.test('calm network delivers everything, delays respect ticks', async (t) => {
  const net = new SimNetwork(new Prng(1));
  net.noise = { dropRate: 0, duplicateRate: 0, delayRate: 1, delayTicksMax: 3 };
  for (let i = 0; i < 100; i++) net.send(msg(1, 2, i), 1, 10);
  t.equal(drain(net, 10).length, 0, 'every message is delayed at least a tick');
  const arrived: Envelope[] = [];
  for (let now = 11; now <= 13; now++) {
    for (const e of drain(net, now)) {
      t.ok(e.deliverAt <= now && e.deliverAt >= 11, 'not before its tick');
      arrived.push(e);
    }
  }
  t.equal(arrived.length, 100, 'all arrive within the longest delay');
  const order = arrived.map((e) => e.message.index);
  t.notSame(order, [...order].sort((a, b) => a - b), 'delays reorder messages');
});

t.test('partitions, one-way cuts, reconnect and heal', async (t) => {
  const dropped: string[] = [];
  const net = new SimNetwork(new Prng(2));
  net.onDrop = (e, reason) => dropped.push(`${e.message.from}->${e.message.to}:${reason}`);
  net.send(msg(1, 3), 1, 0);
  net.partition([[1, 2], [3]]);
  t.equal(drain(net, 0).length, 0, 'a message in flight across a new cut is dropped');
  t.same(dropped, ['1->3:partition'], 'and reported');
  net.send(msg(1, 2), 1, 0);
  net.send(msg(3, 1), 1, 0);
  t.same(drain(net, 0).map((e) => `${e.message.from}->${e.message.to}`), ['1->2'], 'same side delivers, across does not');
  net.healLinks();
  net.cutOneWay(1, 2);
  net.send(msg(1, 2), 1, 0);
  net.send(msg(2, 1), 1, 0);
  t.same(drain(net, 0).map((e) => `${e.message.from}->${e.message.to}`), ['2->1'], 'one-way cut drops one direction only');
  net.isolate(3, [1, 2, 3]);
  t.ok(net.isCut(3, 1) && net.isCut(2, 3) && !net.isCut(3, 3), 'isolate cuts both ways, never a self-link');
  net.reconnect(3);
  t.ok(!net.isCut(3, 1) && !net.isCut(2, 3) && net.isCut(1, 2), 'reconnect restores only that node');
  net.healLinks();
  t.equal(net.cutLinks, 0, 'heal restores everything');
});

t.test('loss and duplication rates, and determinism', async (t) => {
  const run = (seed: number): string => {
    const net = new SimNetwork(new Prng(seed));
    net.noise = { dropRate: 0.2, duplicateRate: 0.1, delayRate: 0.5, delayTicksMax: 4 };
    for (let i = 0; i < 2000; i++) net.send(msg(1, 2, i), 1, 0);
    const got: number[] = [];
    for (let now = 0; now <= 4; now++) for (const e of drain(net, now)) got.push(e.message.index);
    t.ok(net.stats.lost > 300 && net.stats.lost < 500, `about 20% lost (${net.stats.lost})`);
    t.ok(net.stats.duplicated > 100 && net.stats.duplicated < 230, `about 10% of the rest duplicated (${net.stats.duplicated})`);
    t.equal(got.length, 2000 - net.stats.lost + net.stats.duplicated, 'everything else arrives');
    return got.join(',');
  };
  t.equal(run(5), run(5), 'same seed, same deliveries in the same order');
  t.not(run(5), run(6), 'another seed, another schedule');
});
