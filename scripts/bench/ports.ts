// Loopback ports and process liveness for anything that starts real servers: the `peers`
// benchmark (processes.ts) and the process tests (test/cli/helpers.ts). No side effects at import.
import { portFree, portRange } from '../../src/config/index.js';

const PORT_SEARCH_ATTEMPTS = 50;

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
