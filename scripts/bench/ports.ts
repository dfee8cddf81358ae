// Loopback ports and process liveness for anything that starts real servers: the `peers`
// benchmark (processes.ts) and the process tests (test/cli/helpers.ts). No side effects at import.
import { readFileSync } from 'node:fs';
import net from 'node:net';

const PORT_RANGE_LOW = 20_000;
const PORT_RANGE_HIGH = 60_000;
const PORT_SEARCH_ATTEMPTS = 50;
/** Fewer ports than this below the ephemeral range: search the whole range after all. */
const BELOW_EPHEMERAL_MIN = 4096;

/**
 * Where to look for ports: below the kernel's ephemeral range where it can be read. Outgoing
 * connections (members dialling each other, clients) take their local ports from that range, so a
 * port picked there could be taken by one of them before its server binds it: a bench run's third
 * etcd member once failed to start with "address already in use" that way.
 */
function portRange(): { low: number; high: number } {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low - PORT_RANGE_LOW >= BELOW_EPHEMERAL_MIN) return { low: PORT_RANGE_LOW, high: Math.min(low, PORT_RANGE_HIGH) };
  } catch {
    // Not Linux, or no /proc: the whole range.
  }
  return { low: PORT_RANGE_LOW, high: PORT_RANGE_HIGH };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive free loopback ports, from a random place in portRange() (a
 * server started later could still lose the race for one; its caller then fails and says so).
 */
export async function freePortRange(count: number): Promise<number> {
  const { low, high } = portRange();
  for (let attempt = 0; attempt < PORT_SEARCH_ATTEMPTS; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low - count));
    let free = true;
    for (let port = base; port < base + count && free; port++) free = await portFree(port);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free loopback ports found`);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
