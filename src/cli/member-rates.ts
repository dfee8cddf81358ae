// Rates of one member for `kvc status --watch`, from two scrapes of its /metrics (Prometheus text
// format, docs/METRICS.md): pages put and read per second, payload MB/s in and out, and the lookup
// hit ratio over the window between the scrapes. Counters only move forward, except when the
// member restarts: a counter smaller than before counts from zero, as Prometheus's rate() does.

/** A member's /metrics answers from memory; one that takes longer is reported without rates. */
export const SCRAPE_TIMEOUT_MS = 2_000;

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The counters the rates are made of, summed over their labels, and when they were read. */
export interface MemberCounters {
  atMs: number;
  pagesIn: number;
  pagesOut: number;
  bytesIn: number;
  bytesOut: number;
  lookupKeys: number;
  lookupHits: number;
}

export interface MemberRates {
  /** Pages stored through PutPages and read through GetPages (streamed or shared) per second. */
  putsPerSec: number;
  getsPerSec: number;
  /** Payload megabytes (10^6 bytes) per second received by PutPages and sent by GetPages. */
  mbInPerSec: number;
  mbOutPerSec: number;
  /** Keys found / keys asked by the Lookups of the window; null when there were none. */
  lookupHitRatio: number | null;
  /** The window the rates cover, in seconds. */
  windowS: number;
}

const SAMPLE_LINE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parseMetrics(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const value = Number(match[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const [, name, raw] of (match[2] ?? '').matchAll(LABEL)) labels[name!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The sum of `name`'s samples whose labels include `where`. */
export function sumOf(samples: readonly MetricSample[], name: string, where: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([label, value]) => s.labels[label] === value)) sum += s.value;
  }
  return sum;
}

export function countersOf(samples: readonly MetricSample[], atMs: number): MemberCounters {
  return {
    atMs,
    pagesIn: sumOf(samples, 'kvc_transfer_pages_total', { direction: 'in' }),
    pagesOut: sumOf(samples, 'kvc_transfer_pages_total', { direction: 'out' }),
    bytesIn: sumOf(samples, 'kvc_transfer_bytes_total', { direction: 'in' }),
    bytesOut: sumOf(samples, 'kvc_transfer_bytes_total', { direction: 'out' }),
    lookupKeys: sumOf(samples, 'kvc_lookup_keys_total'),
    lookupHits: sumOf(samples, 'kvc_lookup_hits_total'),
  };
}

/** What a counter gained between two reads; after a restart (it went down) all of its new value. */
function gained(before: number, after: number): number {
  return after >= before ? after - before : after;
}

export function ratesBetween(before: MemberCounters, after: MemberCounters): MemberRates {
  const windowS = Math.max(1e-3, (after.atMs - before.atMs) / 1000);
  const per = (b: number, a: number): number => gained(b, a) / windowS;
  const keys = gained(before.lookupKeys, after.lookupKeys);
  return {
    putsPerSec: per(before.pagesIn, after.pagesIn),
    getsPerSec: per(before.pagesOut, after.pagesOut),
    mbInPerSec: per(before.bytesIn, after.bytesIn) / 1e6,
    mbOutPerSec: per(before.bytesOut, after.bytesOut) / 1e6,
    lookupHitRatio: keys === 0 ? null : Math.min(1, gained(before.lookupHits, after.lookupHits) / keys),
    windowS,
  };
}

/** Reads `url` (a member's metricsUrl) once; throws an Error saying why when it cannot. */
export async function scrapeCounters(url: string, timeoutMs = SCRAPE_TIMEOUT_MS): Promise<MemberCounters> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return countersOf(parseMetrics(await response.text()), Date.now());
}
