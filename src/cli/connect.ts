// The one place the CLI builds a client, so every command gets the same deadline, retries and
// token handling, and always closes its channels (an open channel would keep the process alive).
// The client (grpc-js, the protos) is loaded by the first call that needs it, not when `kvc` starts:
// `kvc --help`, `--version` and usage errors never pay for it.
import { readFile } from 'node:fs/promises';
import type { ClientOptions, KvcClient } from '../client/index.js';
import { CliError } from './cli-error.js';
import type { ConnectionOptions } from './options.js';

/** What a client needs besides endpoints to be let in: a token, and TLS files. */
export type ClientAccess = Pick<ClientOptions, 'token' | 'tls'>;

/** Retries of one CLI call: enough to ride out a leader election (about one election timeout). */
export const CLI_RETRIES = 5;

export async function openClient(o: ConnectionOptions, retries = CLI_RETRIES, extra: Partial<ClientOptions> = {}): Promise<KvcClient> {
  const options: ClientOptions = { endpoints: o.endpoints, deadlineMs: o.deadlineMs, retries, ...(await clientAccess(o)), ...extra };
  const { KvcClient: Client } = await import('../client/index.js');
  return new Client(options);
}

/** Runs `fn` with a fresh client and closes it afterwards, whatever happens. */
export async function withClient<T>(o: ConnectionOptions, fn: (client: KvcClient) => Promise<T>, extra: Partial<ClientOptions> = {}): Promise<T> {
  const client = await openClient(o, CLI_RETRIES, extra);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** --token (sent on every call) and --ca/--cert/--cert-key (PEM files, read now) as client options. */
export async function clientAccess(o: Pick<ConnectionOptions, 'token' | 'ca' | 'cert' | 'certKey'>): Promise<ClientAccess> {
  const access: ClientAccess = {};
  // KVC_ADMIN_TOKEN is what --token read before it covered every call; it still works.
  const token = o.token ?? process.env.KVC_ADMIN_TOKEN;
  if (token !== undefined) access.token = token;
  if (o.cert !== undefined || o.certKey !== undefined) {
    if (o.ca === undefined) throw new CliError('--cert and --cert-key need --ca (the cluster CA)');
    if (o.cert === undefined || o.certKey === undefined) throw new CliError('give both --cert and --cert-key, or neither');
  }
  if (o.ca === undefined) return access;
  const read = (flag: string, file: string): Promise<Buffer> =>
    readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`${flag} ${file}: cannot read it (${error.code ?? error.message})`);
    });
  access.tls = {
    ca: await read('--ca', o.ca),
    ...(o.cert !== undefined && o.certKey !== undefined ? { cert: await read('--cert', o.cert), key: await read('--cert-key', o.certKey) } : {}),
  };
  return access;
}
