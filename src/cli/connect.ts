// The one place the CLI builds a client, so every command gets the same deadline, retries and
// token handling, and always closes its channels (an open channel would keep the process alive).
// The client (grpc-js, the protos) is loaded by the first call that needs it, not when `kvc` starts:
// `kvc --help`, `--version` and usage errors never pay for it.
import type { ClientOptions, KvcClient } from '../client/index.js';
import type { ConnectionOptions } from './options.js';

/** Retries of one CLI call: enough to ride out a leader election (about one election timeout). */
export const CLI_RETRIES = 5;

export async function openClient(o: ConnectionOptions, retries = CLI_RETRIES): Promise<KvcClient> {
  const options: ClientOptions = { endpoints: o.endpoints, deadlineMs: o.deadlineMs, retries };
  if (o.token !== undefined) options.adminToken = o.token;
  const { KvcClient: Client } = await import('../client/index.js');
  return new Client(options);
}

/** Runs `fn` with a fresh client and closes it afterwards, whatever happens. */
export async function withClient<T>(o: ConnectionOptions, fn: (client: KvcClient) => Promise<T>): Promise<T> {
  const client = await openClient(o);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
