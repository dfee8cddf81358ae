// Free loopback ports for members that must know each other's addresses before they start
// (tests, the fuzzer's and the chaos harness's clusters, benchmarks): all are held open together,
// so no two are the same, then released for the members to bind. They are picked below the
// kernel's ephemeral range where it can be read: outgoing connections (members dialling each
// other, their socket lanes, clients) take their local ports from that range, so a port picked
// there (as port 0 picks) could be taken by one of them before its member binds it.
import { readFileSync } from 'node:fs';
import net from 'node:net';

const PORT_RANGE_LOW = 20_000;
const PORT_RANGE_HIGH = 60_000;
/** Fewer ports than this below the ephemeral range: search the whole range after all. */
const BELOW_EPHEMERAL_MIN = 4096;
/** Random tries per port before the kernel is asked for one (port 0). */
const PORT_TRIES = 20;

/** Where to look for ports: [low, high), below the ephemeral range where /proc tells it. */
export function portRange(rangeFile = '/proc/sys/net/ipv4/ip_local_port_range'): { low: number; high: number } {
  try {
    const low = Number(readFileSync(rangeFile, 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low - PORT_RANGE_LOW >= BELOW_EPHEMERAL_MIN) return { low: PORT_RANGE_LOW, high: Math.min(low, PORT_RANGE_HIGH) };
  } catch {
    // Not Linux, or no /proc: the whole range.
  }
  return { low: PORT_RANGE_LOW, high: PORT_RANGE_HIGH };
}

/** A loopback server on `port` (0: one the kernel picks), or undefined when the port is taken. */
function listen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (port !== 0 && (error.code === 'EADDRINUSE' || error.code === 'EACCES') ? resolve(undefined) : reject(error)));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
  });
}

/** True when a loopback server could bind `port` just now (it is closed again at once). */
export async function portFree(port: number): Promise<boolean> {
  const server = await listen(port).catch(() => undefined);
  if (server === undefined) return false;
  await new Promise((resolve) => server.close(resolve));
  return true;
}

/** `count` distinct free loopback ports from portRange(), held open until `release`. */
export async function reserveLoopbackPorts(count: number): Promise<{ ports: number[]; release(): Promise<void> }> {
  const { low, high } = portRange();
  const servers: net.Server[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  };
  try {
    while (servers.length < count) {
      let server: net.Server | undefined;
      for (let attempt = 0; attempt < PORT_TRIES && server === undefined; attempt++) server = await listen(low + Math.floor(Math.random() * (high - low)));
      // A range nearly full: the kernel's pick (distinct from the ports held, but in the ephemeral range).
      servers.push(server ?? (await listen(0))!);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { ports: servers.map((server) => (server.address() as net.AddressInfo).port), release };
}

/** `count` distinct loopback ports that were free a moment ago (reserveLoopbackPorts, released). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const reserved = await reserveLoopbackPorts(count);
  await reserved.release();
  return reserved.ports;
}
