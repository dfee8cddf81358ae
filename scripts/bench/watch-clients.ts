// The watchers of the `watch` benchmark, in a process of their own so that decoding their feeds
// does not share the member's CPU (forked by watch-suite.ts with an IPC channel). Argv: the
// member's address and the number of watchers. Sends {ready} once every watcher has its first
// event, answers each {count} with {events} (stored events received so far), and exits on {stop}.
import { setMaxListeners } from 'node:events';
import { KvcClient } from '../../src/client/index.js';

const [address, countText] = process.argv.slice(2);
const count = Number(countText);
if (address === undefined || !(count > 0) || process.send === undefined) throw new Error('usage: watch-clients.ts host:port count (forked with IPC)');
const send = process.send.bind(process);
const client = new KvcClient({ endpoints: [address] });
const stop = new AbortController();
setMaxListeners(count + 10, stop.signal); // One abort listener per watcher.
let events = 0;
let started = 0;
const feeds = Array.from({ length: count }, async () => {
  let first = true;
  for await (const e of client.watch({ signal: stop.signal })) {
    if (first && ++started === count) send({ ready: true });
    first = false;
    if (e.type === 'stored') events++;
  }
});
process.on('message', (message: { count?: boolean; stop?: boolean }) => {
  if (message.count === true) send({ events });
  if (message.stop === true) {
    stop.abort();
    void Promise.all(feeds).finally(() => {
      client.close();
      process.exit(0);
    });
  }
});
